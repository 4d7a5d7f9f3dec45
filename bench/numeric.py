"""Numeric Jacobian cases: jacli's path against hand-written PyTorch, strategy by strategy.

Three groups of candidates on identical inputs, all checked against jacli's J first:

* ``jacli``            J as the CLI's numeric stage computes it (``jacli.hooks.numeric_core``);
* ``jacli-prog/<s>``   jacli's interpreter (``forward``) as a function of one flat input, under
                       strategy ``s``: what jacli would cost if it switched to ``s``;
* ``hand/<s>``         the same function written by hand in PyTorch, under strategy ``s``.

``jacli-prog/s ÷ hand/s`` is the interpreter's overhead; ``hand/*`` ranks the strategies;
``jacli ÷ best hand/*`` is the issue's 1.1× target. ``jacli-e2e`` (``compute`` with
``--symbolic never``: text parsing, exact values, forward, J, ``tolist``) is reported too.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
import warnings

import programs
import strategies as S
from timing import clock, interleaved, paired, repeat

from jacli import hooks

# first calls in this order: those that do not import torch._dynamo first, then vjp_vmap
# (torch.func.vjp's pullback imports it on its first call), jacrev and jacfwd; so every
# dynamo-free first call is measured without torch._dynamo loaded
FIRST_ORDER = ("af_rev", "grad_loop", "backward_loop", "af_fwd", "jvp_vmap")
FUNC_ORDER = ("vjp_vmap", "jacrev", "jacfwd")
# each timing sample is a burst of back-to-back calls lasting ~3 ms (timing.interleaved): a
# sub-millisecond call's median is its own cost, not the cache state its predecessor left
BURST = 0.003


def build(case: dict) -> dict:
    """Program, backend, point and the three callables for one case."""
    import torch

    from jacli import Problem

    out: dict = {"torch": torch}
    if case["kind"] in ("scalar", "memory") and "m" in case:
        system = programs.banded_system if case.get("banded") else programs.scalar_system
        src, py, names, pt = system(case["m"], case["n"])
        limits = hooks.limits(source_chars=max(hooks.limits().source_chars, 2 * len(src)),
                              nodes=10**7)
        out["default_limits_ok"] = _fits_defaults(src)
        parse = hooks.parse  # the CLI's parser itself, loaded here: no import in the timing
        start = time.perf_counter()
        prog = parse(src, limits=limits)
        out["parse_s"] = time.perf_counter() - start
        core = hooks.numeric_core(prog, [pt], names)  # the point read as the CLI reads --at
        point, wrt, forward = core.point, core.wrt, core.forward
        ns = {"torch": torch}
        exec(py, ns)  # our own generated source, not user input
        hand = ns["f"]
        two = torch.tensor(2.0, dtype=torch.float64)
        ns_pow = {"torch": torch, "_two": two}
        exec(py.replace("**2", "**_two"), ns_pow)
        out["diag_pow"] = ns_pow["f"]
        x0 = torch.stack([point[k] for k in names])

        def jprog(v):
            return forward(dict(zip(names, v.unbind(0)))).reshape(-1)

        out["problem"] = Problem(src, command="jacobian", at=(pt,), symbolic="never",
                                 limits=limits)
        out["source_chars"] = len(src)
    else:
        n_out, n_in, name = case["n_out"], case["n_in"], case.get("wrt", "x")
        src = programs.TENSOR_SOURCE
        parse = hooks.parse
        start = time.perf_counter()
        prog = parse(src)
        out["parse_s"] = time.perf_counter() - start
        out["default_limits_ok"] = True
        point = programs.tensor_point(n_out, n_in)
        W1, W2, x = point["W1"], point["W2"], point["x"]
        core = hooks.numeric_core(prog, point, [name])  # the tensors as they are
        wrt, forward = core.wrt, core.forward
        shape = point[name].shape
        x0 = point[name].reshape(-1).clone()
        if name == "x":
            def hand(v):
                return torch.tanh(W2 @ torch.tanh(W1 @ v))
        else:
            def hand(v):
                return torch.tanh(W2 @ torch.tanh(v.view(shape) @ x))

        def jprog(v):
            return forward({**point, name: v.view(shape)}).reshape(-1)

        elements = sum(t.numel() for t in point.values())
        out["problem"] = Problem(src, command="jacobian", at=programs.tensor_point_text(point),
                                 wrt=(name,), symbolic="never") if elements <= 20_000 else None
        out["source_chars"] = len(src)
    out.update(core=core, point=point, wrt=wrt, hand=hand, jprog=jprog, x0=x0)
    out["m"] = int(jprog(x0).numel())
    out["n"] = int(x0.numel())
    out["jacli_modes"], out["auto_mode"] = _jacli_callables(core)
    out["jacli"] = out["jacli_modes"]["jacli"]
    return out


def _jacli_callables(core):
    """``jacli``: J as the CLI builds it (``--mode auto``), the strategy picked at each call
    as the CLI picks it in a process in that state — cold (``torch._dynamo`` not imported:
    jacli's first call here) or warm (imported by the hand-written ``torch.func`` anchors
    before the timed runs); plus ``jacli[<other mode>]`` forced. Returns the callables and
    the warm auto mode."""
    mode = core.choose("auto", warm=True)[0]
    other = "fwd" if mode == "rev" else "rev"
    return {"jacli": core.jacobian("auto"), f"jacli[{other}]": core.jacobian(other)}, mode


def _fits_defaults(src: str) -> bool:
    from jacli.errors import JacliError

    try:
        hooks.parse(src)
        return True
    except JacliError:
        return False


def numeric_case(case: dict) -> dict:
    import torch

    b = build(case)
    m, n = b["m"], b["n"]
    print(f"[{case['name']}] m={m} n={n} parse={b['parse_s']:.3f}s", file=sys.stderr, flush=True)
    res: dict = {"m": m, "n": n, "parse_s": b["parse_s"], "candidates": {},
                 "auto_mode": b["auto_mode"],
                 "default_limits_ok": b["default_limits_ok"], "source_chars": b["source_chars"]}
    cands = res["candidates"]

    # jacli first: its first call is what a one-shot CLI run pays (no torch.func import)
    dyn0 = "torch._dynamo" in sys.modules
    res["cold_impl"] = b["core"].choose("auto")[1]
    res["warm_impl"] = b["core"].choose("auto", warm=True)[1]
    start = time.perf_counter()
    J = b["jacli"]()
    cands["jacli"] = {"first_s": time.perf_counter() - start, "ok": True, "rows": m,
                      "dynamo": ("torch._dynamo" in sys.modules) and not dyn0}
    J = J.detach()

    fns = {"jacli": b["jacli"]}
    first = cands["jacli"]["first_s"]
    costs = {"jacli": first if first > 1.0 else clock(b["jacli"])}
    loop_rows: dict[str, int] = {}
    for name, fn in b["jacli_modes"].items():
        if name != "jacli":
            entry = _first_call(name, lambda g, x, rows: fn(), None, b["x0"], J, m, False, case)
            cands[name] = entry
            if "error" not in entry:
                fns[name], costs[name] = fn, (entry["first_s"] if entry["first_s"] > 1.0
                                              else clock(fn))
                entry["rows"] = m
    order = [(g, s) for s in FIRST_ORDER for g in ("hand", "jacli-prog")]
    order += [("diag", "af_rev")] if "diag_pow" in b else []
    order += [(g, s) for s in FUNC_ORDER for g in ("hand", "jacli-prog")]
    for group, strat in order:
        name = f"{group}/{strat}" if group != "diag" else "diag/hand-pow-tensor-exp/af_rev"
        g = {"hand": b["hand"], "jacli-prog": b["jprog"]}.get(group, b.get("diag_pow"))
        entry = _first_call(name, S.ALL[strat], g, b["x0"], J, m, strat in S.LOOPS, case)
        cands[name] = entry
        if "error" in entry:
            continue
        fn, cost, rows = _timed_callable(S.ALL[strat], g, b["x0"], m, strat in S.LOOPS, case,
                                         entry["first_s"])
        fns[name], costs[name], loop_rows[name] = fn, cost, rows
        entry["rows"] = rows
    if b.get("problem") is not None:
        from jacli import compute

        problem = b["problem"]
        start = time.perf_counter()
        r = compute(problem)
        cands["jacli-e2e"] = {"first_s": time.perf_counter() - start, "rows": m,
                              "ok": r.jacobian.numeric is not None and torch.allclose(
                                  torch.tensor(r.jacobian.numeric, dtype=torch.float64), J,
                                  rtol=1e-9, atol=1e-12)}
    # burst lengths from costs measured now, every first call done: jacli's estimate above was
    # taken before the torch.func anchors imported torch._dynamo, i.e. under its cold strategy
    costs = {name: cost if cost > 1.0 else min(clock(fns[name]), clock(fns[name]))
             for name, cost in costs.items()}
    timed = interleaved(fns, costs, budget=case["budget"], min_reps=case.get("min_reps", 3),
                        max_reps=case.get("max_reps", 15), slow=case.get("slow", 4.0),
                        burst=BURST)
    if "jacli-e2e" in cands:
        # timed on its own, after the others: interleaved, its whole-pipeline calls (SymPy,
        # many small objects freed) slowed the next small Jacobian calls by ~100 µs
        # (tensor 16×16: jacli 300 → 215 µs without it; measured, see docs/benchmarks.md)
        timed.update(interleaved({"jacli-e2e": lambda: compute(problem)},
                                 {"jacli-e2e": cands["jacli-e2e"]["first_s"]},
                                 budget=case["budget"] / 4, min_reps=3,
                                 max_reps=case.get("max_reps", 15), slow=case.get("slow", 4.0),
                                 burst=BURST))
    for name, t in timed.items():
        scale = m / loop_rows[name] if loop_rows.get(name) else 1.0
        cands[name].update(median=t["median"] * scale, min=t["min"] * scale, reps=t["reps"],
                           extrapolated=scale != 1.0, scale=scale,
                           after_switch=t["after_switch"] * scale,
                           calls_per_sample=t["calls_per_sample"])
    res["paired"] = _paired_with_best(fns, costs, cands, case["budget"] / 2)
    res["threads"] = torch.get_num_threads()
    return res


def _paired_with_best(fns: dict, costs: dict, cands: dict, budget: float) -> dict | None:
    """jacli ÷ the best hand-written anchor (by interleaved median), measured as the many
    points case does: back-to-back pairs of ~3 ms bursts, the median of per-pair ratios. The
    two calls of a pair see the same machine, and each follows only the other, where an
    interleaved median also carries whatever the 20 other candidates left behind."""
    anchor, _ = S.best_hand(cands)
    if "jacli" not in fns or anchor is None:
        return None
    cost = max(costs["jacli"], costs[anchor])
    k = max(1, min(25, int(BURST / cost)))
    rounds = max(5, min(41, int(budget / (2 * k * cost))))
    p = paired(repeat(fns["jacli"], k), repeat(fns[anchor], k), rounds)
    scale = cands[anchor].get("scale", 1.0)  # a loop anchor timed on its first rows
    return {"anchor": anchor, "ratio": p["median"] / scale, "rounds": rounds, "calls": k}


def _first_call(name, strat, g, x0, J, m, loop, case) -> dict:
    """Time the first call (rows-limited for loops) and check it against jacli's J."""
    import torch

    rows = min(m, 8) if loop else None
    dyn0 = "torch._dynamo" in sys.modules
    try:
        with _vmap_fallbacks() as fallbacks:
            start = time.perf_counter()
            out = strat(g, x0, rows)
            first = time.perf_counter() - start
    except Exception as e:  # a strategy that cannot run this function is a result too
        print(f"  {name}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        return {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}
    out = out.reshape(out.shape[0], -1).detach()
    ref = J[: out.shape[0]]
    ok = tuple(out.shape) == tuple(ref.shape) and torch.allclose(out, ref, rtol=1e-9, atol=1e-12)
    err = float((out - ref).abs().max()) if tuple(out.shape) == tuple(ref.shape) else None
    if not ok:
        print(f"  {name}: MISMATCH (max abs err {err})", file=sys.stderr, flush=True)
    return {"first_s": first * (m / rows if rows else 1), "first_rows": rows or m, "ok": bool(ok),
            "max_abs_err": err, "dynamo": ("torch._dynamo" in sys.modules) and not dyn0,
            "vmap_fallbacks": sorted(fallbacks)}


@contextlib.contextmanager
def _vmap_fallbacks():
    """Collect the ops that torch.autograd.functional's (legacy) vmap ran without a batching
    rule, i.e. as a slow Python-level loop over the batch; yields the set of op names."""
    import torch

    found: set[str] = set()
    toggle = getattr(torch._C, "_debug_only_display_vmap_fallback_warnings", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if toggle:
            toggle(True)
        try:
            yield found
        finally:
            if toggle:
                toggle(False)
            for w in caught:
                hit = re.search(r"batching rule for (\S+?)\.? ", str(w.message))
                if hit:
                    found.add(hit.group(1))


def _timed_callable(strat, g, x0, m, loop, case, first):
    """The callable to time, its estimated cost, and how many output rows it computes."""
    if not loop:
        fn = lambda: strat(g, x0)  # noqa: E731
        return fn, (first if first > 1.0 else clock(fn)), m
    probe = min(m, 8)
    per_row = clock(lambda: strat(g, x0, probe)) / probe
    cap = case.get("loop_cap", 2.0)
    rows = m if per_row * m <= cap else max(probe, int(cap / per_row))
    fn = lambda: strat(g, x0, rows)  # noqa: E731
    return fn, per_row * rows, rows


__all__ = ["build", "numeric_case"]


# -- first calls, each in its own process ------------------------------------------------------
FIRSTCALL_PROGRAMS = {"scalar 20×5": {"kind": "scalar", "m": 20, "n": 5},
                      "tensor 64×64": {"kind": "tensor", "n_out": 64, "n_in": 64, "wrt": "x"}}


def firstcall_case(case: dict) -> dict:
    """First-call cost of every strategy (and of jacli in each mode) in a fresh process each,
    after ``import torch`` and jacli: what a one-shot CLI run would pay for that choice, and
    whether that call imported ``torch._dynamo``."""
    import json
    import os
    import subprocess

    child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
    names = ["jacli[rev]", "jacli[fwd]"] + [f"hand/{s}" for s in S.ALL if s not in S.LOOPS] \
        + ["hand/grad_loop"]
    rows = {}
    for label, program in FIRSTCALL_PROGRAMS.items():
        for name in names:
            spec = {**program, "kind": "firstcall1", "build": program, "which": name}
            proc = subprocess.run([sys.executable, child, json.dumps(spec)], capture_output=True,
                                  text=True)
            lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            rows.setdefault(label, {})[name] = (json.loads(lines[-1][7:]) if lines else
                                                {"error": proc.stderr[-300:]})
            print(f"[first calls] {label} {name}: {rows[label][name].get('first_s')}",
                  file=sys.stderr, flush=True)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "import time, torch; t = time.perf_counter(); "
                           "import torch._dynamo; print(time.perf_counter() - t)"],
                          capture_output=True, text=True)
    dynamo = float(proc.stdout.strip() or "nan")
    return {"programs": rows, "dynamo_import_s": dynamo, "wall": time.perf_counter() - start}


def firstcall1(case: dict) -> dict:
    import torch

    b = build(case["build"])
    which = case["which"]
    if which.startswith("jacli["):
        _, impl = b["core"].choose(which[6:-1])
        fn = b["core"].jacobian(impl=impl)
    else:
        strat = S.ALL[which.split("/", 1)[1]]
        fn = lambda: strat(b["hand"], b["x0"])  # noqa: E731
    dyn0 = "torch._dynamo" in sys.modules
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    second = clock(fn)
    return {"first_s": first, "second_s": second, "m": b["m"], "n": b["n"],
            "dynamo": ("torch._dynamo" in sys.modules) and not dyn0, "threads": torch.get_num_threads()}
