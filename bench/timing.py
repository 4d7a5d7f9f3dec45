"""Interleaved timing: warm medians of several candidates measured round-robin.

The machine is shared (2 cores, other jobs running), so candidates are interleaved: each
round times every candidate once, in an order rotated round by round, and a candidate's
repeats are spread over the whole measurement rather than run back to back. Each candidate gets a share of ``budget`` seconds,
at least ``min_reps`` and at most ``max_reps`` repeats (one repeat when a single call costs
more than ``slow`` seconds).
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Callable


def clock(fn: Callable[[], object]) -> float:
    """Seconds for one call, with the garbage collector held off during the call (no
    ``gc.collect()`` here: with torch._dynamo loaded one full collection costs ~0.2 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def interleaved(candidates: dict[str, Callable[[], object]], costs: dict[str, float],
                budget: float, min_reps: int = 3, max_reps: int = 15,
                slow: float = 4.0) -> dict[str, dict]:
    """Median/min/all times per candidate; ``costs`` are single-call estimates (seconds)."""
    share = budget / max(len(candidates), 1)
    reps = {}
    for name in candidates:
        cost = max(costs.get(name, 0.0), 1e-6)
        low = 1 if cost > slow else min_reps
        reps[name] = max(low, min(max_reps, int(share / cost)))
    times: dict[str, list[float]] = {name: [] for name in candidates}
    gc.collect()
    gc.freeze()  # what exists now is never scanned again: cheap collections between calls
    names = list(candidates)
    for round_ in range(max(reps.values(), default=0)):
        # rotate the order each round: the first call after another candidate's run meets
        # caches and allocator state that one left (+60–120 µs on ~200 µs calls, measured),
        # so no candidate may always go first
        k = round_ % len(names)
        for name in names[k:] + names[:k]:
            if round_ < reps[name]:
                times[name].append(clock(candidates[name]))
    return {name: summary(ts) for name, ts in times.items()}


def summary(ts: list[float]) -> dict:
    return {"median": statistics.median(ts), "min": min(ts), "reps": len(ts),
            "times": [round(t, 6) for t in ts]}


def paired(a: Callable[[], object], b: Callable[[], object], rounds: int) -> dict:
    """``a``'s time over ``b``'s, call by call: each round times a then b (alternating which
    goes first), and the result is the median of the per-round ratios. On a shared machine
    whole stretches run ~2× slower (another process on the same core); two calls made back
    to back see the same conditions far more often than two medians over a minute do."""
    ratios = []
    gc.collect()
    for r in range(rounds):
        if r % 2:
            tb, ta = clock(b), clock(a)
        else:
            ta, tb = clock(a), clock(b)
        ratios.append(ta / tb)
    return {"median": statistics.median(ratios), "rounds": rounds,
            "ratios": [round(x, 4) for x in ratios]}
