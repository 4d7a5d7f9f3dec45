"""Interleaved timing: warm medians of several candidates measured round-robin.

The machine is shared (2 cores, other jobs running), so candidates are interleaved: each
round times every candidate once, in an order shuffled round by round (seeded), and a
candidate's repeats are spread over the whole measurement rather than run back to back. Each
candidate gets a share of ``budget`` seconds, at least ``min_reps`` and at most ``max_reps``
repeats (one repeat when a single call costs more than ``slow`` seconds).
"""

from __future__ import annotations

import gc
import random
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
                slow: float = 4.0, burst: float = 0.0) -> dict[str, dict]:
    """Median/min/all times per candidate; ``costs`` are single-call estimates (seconds).

    ``burst`` > 0: each sample is a burst of k back-to-back calls (k = burst / cost, 1 to 25):
    the first call is timed alone (kept as ``after_switch``), the other k - 1 together, and
    the sample is their time per call (the lone call's, when k = 1). A lone call right after
    another candidate's meets caches and allocator state that one left (+60–170 µs on
    0.2–0.6 ms calls, measured), a penalty that depends on which candidate ran before; a burst
    measures the candidate's own per-call cost, as a loop calling it would see, and
    ``after_switch`` keeps the other view.
    """
    share = budget / max(len(candidates), 1)
    reps, calls = {}, {}
    for name in candidates:
        cost = max(costs.get(name, 0.0), 1e-6)
        calls[name] = max(1, min(25, int(burst / cost))) if burst else 1
        low = 1 if cost > slow else min_reps
        reps[name] = max(low, min(max_reps, int(share / (cost * calls[name]))))
    times: dict[str, list[float]] = {name: [] for name in candidates}
    firsts: dict[str, list[float]] = {name: [] for name in candidates}
    gc.collect()
    gc.freeze()  # what exists now is never scanned again: cheap collections between calls
    names = list(candidates)
    for round_ in range(max(reps.values(), default=0)):
        # a fresh (seeded) order each round: the first call after another candidate's run
        # pays for the state that one left, so no candidate may always go first or always
        # follow the same neighbour. (Rotating one order did not do that: it keeps every
        # candidate's predecessor, and jacli then always followed the heaviest torch.func
        # call — +45% on its lone calls at scalar 3×3, measured.)
        for name in random.Random(round_).sample(names, len(names)):
            if round_ < reps[name]:
                fn, n = candidates[name], calls[name]
                first = clock(fn)
                rest = clock(repeat(fn, n - 1)) if n > 1 else 0.0
                firsts[name].append(first)
                times[name].append(rest / (n - 1) if n > 1 else first)
    out = {name: summary(ts) for name, ts in times.items()}
    for name in out:
        out[name]["calls_per_sample"] = calls[name]
        out[name]["after_switch"] = statistics.median(firsts[name]) if firsts[name] else None
    return out


def repeat(fn: Callable[[], object], k: int) -> Callable[[], None]:
    """``fn`` called k times back to back, as one callable (one timing sample)."""
    def run() -> None:
        for _ in range(k):
            fn()
    return run


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
