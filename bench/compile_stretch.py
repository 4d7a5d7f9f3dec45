"""Stretch: at N ≥ 10⁶ points, does a compiler close the gap to JAX once compile
time is counted?

The seeds' 3→3 system at N points, float64, J and vᵀJ, in one fresh process whose inductor
cache is an empty temporary folder (so every ``torch.compile`` pays its whole compilation,
as a first run on a user's machine would). Candidates:

* ``jacli``                 ``jacli.many.batched.chunks`` as ``jacli.many.stream`` runs it (eager; chunks);
* ``hand/eager``            the best hand-written eager variant (bench/many_points.py), one shot;
* ``compile/vjp_rows``      ``torch.compile`` of ``torch.func.vjp`` on the three columns, J as
                            three pullbacks of e_i (vᵀJ: one pullback of v);
* ``compile/jvp_cols``      ``torch.compile`` of three ``torch.func.jvp`` (J only);
* ``compile/vmap_jacfwd``   ``torch.compile(vmap(jacfwd(f)))`` of the one-point function, the
                            analogue of JAX's ``jit(vmap(jacfwd))`` (J only);
* ``compile/jacli_prog``    ``compile/vjp_rows`` with jacli's interpreted program (its
                            ``autograd.forward``) as the function: what an opt-in would cost;
* ``… chunks``              the same compiled function called on chunks of ``CHUNK`` points,
                            as jacli's eager path runs (cache-sized arrays, buffers reused by
                            the allocator instead of fresh page-faulted memory per call);
* ``jax/*``                 ``jit(vmap(jacfwd))``, ``jit(vmap(jacrev))``, ``jit(vmap(vjp))``, with
                            x64 — only when JAX is installed (it is not a jacli dependency).

Reported: each candidate's first call in its own fresh process after the imports (so
compilation, the lazy ``torch._dynamo`` import and the first gcc run are counted for each
route, and no route reuses another's compiled kernels), the warm median (all candidates
interleaved in one process), and where compiling starts to pay against jacli's eager path:
N* = (first call − warm) / (1/eager rate − 1/compiled rate).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from many_points import SOURCE, V_TEXT, hand_candidates, points
from timing import clock, interleaved, repeat

from jacli import hooks

SAMPLE_S = 0.1
CHUNK = 1 << 17  # jacli.many.batched.MAX_CHUNK: the chunk jacli's eager path uses for 3→3


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def outputs(x1, x2, x3):
    return x1**2 + 2*x2 + x3, x1 + x2**3 + x3**2, 2*x1 + x2**2 + x3**3


def torch_candidates(X, v, jacli_outputs):
    """name -> (group, fn); compiled functions compile on their first call."""
    import torch
    from torch.func import jacfwd, jvp, vjp, vmap

    N = X.shape[0]
    cols = [X[:, j].contiguous() for j in range(3)]

    def rows_of(f):
        def J(x1, x2, x3):
            _, pull = vjp(f, x1, x2, x3)
            one, zero = torch.ones_like(x1), torch.zeros_like(x1)
            return torch.stack([torch.stack(pull(e)) for e in
                                ((one, zero, zero), (zero, one, zero), (zero, zero, one))])
        return J

    weights = tuple(float(w) for w in v)  # Python floats: constants to the compiler

    def vjp_of(f):
        def VJ(x1, x2, x3):
            _, pull = vjp(f, x1, x2, x3)
            return torch.stack(pull(tuple(torch.full_like(x1, w) for w in weights)))
        return VJ

    def jvp_cols(x1, x2, x3):
        one, zero = torch.ones_like(x1), torch.zeros_like(x1)
        return torch.stack([torch.stack(jvp(outputs, (x1, x2, x3), t)[1]) for t in
                            ((one, zero, zero), (zero, one, zero), (zero, zero, one))], 1)

    def point(x):
        return torch.stack(outputs(x[0], x[1], x[2]))

    def compiled(f, chunked=False):
        """A fresh compiled function per candidate: none reuses another's compilation.
        ``chunked``: called on slices of ``CHUNK`` points (static shapes: one compilation
        per distinct chunk length), a list of results, as jacli's eager path gives them."""
        g = torch.compile(f, dynamic=False if chunked else None)
        if not chunked:
            return lambda: g(*cols)
        return lambda: [g(*(c[s:s + CHUNK] for c in cols)) for s in range(0, N, CHUNK)]

    hand_J, hand_V = hand_candidates(X, v.expand(N, 3))
    J_vmap = torch.compile(vmap(jacfwd(point)))
    return {
        "hand/eager": ("J", hand_J["hand/cols_per_output_view"]),
        "compile/vjp_rows": ("J", _T(compiled(rows_of(outputs)))),
        "compile/vjp_rows chunks": ("J", _T(compiled(rows_of(outputs), True))),
        "compile/jvp_cols": ("J", _T(compiled(jvp_cols))),
        "compile/vmap_jacfwd": ("J", lambda: J_vmap(X)),
        "compile/jacli_prog": ("J", _T(compiled(rows_of(jacli_outputs)))),
        "compile/jacli_prog chunks": ("J", _T(compiled(rows_of(jacli_outputs), True))),
        "hand/eager vjp": ("vjp", hand_V["hand/cols_backward_view"]),
        "compile/vjp_rows vjp": ("vjp", _T(compiled(vjp_of(outputs)))),
        "compile/vjp_rows chunks vjp": ("vjp", _T(compiled(vjp_of(outputs), True))),
        "compile/jacli_prog vjp": ("vjp", _T(compiled(vjp_of(jacli_outputs)))),
        "compile/jacli_prog chunks vjp": ("vjp", _T(compiled(vjp_of(jacli_outputs), True))),
    }


def _T(fn):
    """(…, N) results (or a list of them) as (N, …) views, the layout of the others."""
    def view(out):
        return out.permute(2, 0, 1) if out.dim() == 3 else out.T

    def run():
        out = fn()
        return [view(o) for o in out] if isinstance(out, list) else view(out)
    return run


def jacli_candidates(X, v):
    """jacli's eager path (J, vᵀJ) and its program as a function of three columns."""
    core = hooks.batched_core(SOURCE, ("1,2,3",), v=V_TEXT)
    cols = {n: X[:, i].contiguous() for i, n in enumerate(core.variables)}
    size = hooks.chunk_size(3, 3)
    program_outputs = core.outputs  # (x1, x2, x3) -> the three outputs, by the interpreter

    # one eager call on one point first: the backend caches its literal tensors, and one
    # first made while torch.compile traces under torch.func is a wrapper that later fails
    # ("Cannot access storage of TensorWrapper"); an opt-in compiled path would do the same
    program_outputs(*(X[:1, i] for i in range(3)))

    return {"jacli": ("J", core.run(cols, "jacobian", v, size)),
            "jacli vjp": ("vjp", core.run(cols, "vjp", v, size))}, program_outputs


def jax_candidates(pts, v):
    """JAX's compiled anchors, or a note saying why there are none."""
    if os.environ.get("JACLI_BENCH_NO_JAX"):
        return {}, "JAX skipped (JACLI_BENCH_NO_JAX)"
    try:
        import jax
        import jax.numpy as jnp
        import numpy as np
    except ImportError:
        return {}, "JAX is not installed: no JAX anchor (pip install jax jaxlib to add one)"
    jax.config.update("jax_enable_x64", True)
    X = jnp.asarray(np.asarray(pts, dtype=np.float64))
    V = jnp.asarray(np.asarray(v.tolist(), dtype=np.float64))

    def f(x):
        return jnp.stack(outputs(x[0], x[1], x[2]))

    fns = {"jax/jit(vmap(jacfwd))": jax.jit(jax.vmap(jax.jacfwd(f))),
           "jax/jit(vmap(jacrev))": jax.jit(jax.vmap(jax.jacrev(f))),
           "jax/jit(vmap(vjp)) vjp": jax.jit(jax.vmap(lambda x: jax.vjp(f, x)[1](V)[0]))}
    return ({k: ("vjp" if k.endswith("vjp") else "J",
                 lambda g=g: g(X).block_until_ready()) for k, g in fns.items()},
            f"JAX {jax.__version__}, x64, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")


def candidates(N: int, with_jax: bool = True):
    """``(X, name -> (group, fn), jax note)``; nothing is compiled until a fn is called."""
    import torch

    pts = points(N)
    X = torch.tensor(pts, dtype=torch.float64)
    v = torch.tensor([float(x) for x in V_TEXT.split(",")], dtype=torch.float64)
    jacli, program_outputs = jacli_candidates(X, v)
    cands = {**jacli, **torch_candidates(X, v, program_outputs)}
    jax_fns, note = jax_candidates(pts, v) if with_jax else ({}, "")
    return X, {**cands, **jax_fns}, note


def first_call_case(case: dict) -> dict:
    """Child for one candidate: its first call in this fresh process, after the imports."""
    import torch

    name = case["candidate"]
    _, cands, _ = candidates(case["points"], with_jax=name.startswith("jax/"))
    group, fn = cands[name]
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    return {"first_s": first, "dynamo": "torch._dynamo" in sys.modules,
            "threads": torch.get_num_threads()}


def _fresh_first_call(case: dict, name: str) -> dict:
    child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
    sub = {"kind": "compile1", "name": name, "candidate": name, "points": case["points"],
           "threads": case.get("threads", 0)}
    proc = subprocess.run([sys.executable, child, json.dumps(sub)], capture_output=True,
                          text=True, timeout=600)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode or not lines:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1][:200]}
    return json.loads(lines[-1][len("RESULT "):])


def compile_case(case: dict) -> dict:
    import torch

    N = case.get("points", 1_000_000)
    X, cands, jax_note = candidates(N)
    if case.get("routes"):  # --quick: the routes that answer the question, not every variant
        cands = {k: c for k, c in cands.items() if any(k.startswith(r) for r in case["routes"])}
    res: dict = {"points": N, "threads": torch.get_num_threads(), "jax": jax_note,
                 "candidates": {}}
    refs = {}
    for name, (group, fn) in cands.items():
        log(f"  {name}")
        entry = res["candidates"][name] = {"group": group}
        try:
            out = fn()  # compiles here, in this process, for the warm timing below
        except Exception as e:  # a route that does not compile is a finding too
            entry["error"] = f"{type(e).__name__}: {str(e)[:200]}"
            continue
        if isinstance(out, list):
            out = torch.cat(out)
        elif not isinstance(out, torch.Tensor):  # a JAX array
            import numpy as np

            out = torch.as_tensor(np.asarray(out))
        ref = refs.setdefault(group, out)
        entry["ok"] = bool(out.shape == ref.shape and torch.allclose(out, ref, rtol=1e-12,
                                                                      atol=1e-12))
        fresh = _fresh_first_call(case, name)
        if "error" in fresh:
            entry["error"] = "fresh process: " + fresh["error"]
        else:
            entry["first_s"] = fresh["first_s"]
    live = {k: f for k, (g, f) in cands.items() if "error" not in res["candidates"][k]}
    inner = {k: max(1, min(20, round(SAMPLE_S / max(clock(f), 1e-5)))) for k, f in live.items()}
    timed = interleaved({k: repeat(f, inner[k]) for k, f in live.items()},
                        {k: SAMPLE_S for k in live}, budget=case.get("budget", 20.0),
                        min_reps=3, max_reps=case.get("max_reps", 9))
    for name, t in timed.items():
        c, k = res["candidates"][name], inner[name]
        c.update(median=t["median"] / k, min=t["min"] / k, reps=t["reps"],
                 points_per_s=N * k / t["median"])
        c["compile_s"] = max(0.0, c["first_s"] - c["median"])
        c["total_s"] = c["first_s"]  # compilation + the N points once
    eager = {g: res["candidates"][k] for g, k in (("J", "jacli"), ("vjp", "jacli vjp"))}
    for name, c in res["candidates"].items():
        e = eager[c["group"]]
        if "median" in c and name not in ("jacli", "jacli vjp") and c["median"] < e["median"]:
            c["break_even_points"] = c["compile_s"] / (1 / e["points_per_s"]
                                                       - 1 / c["points_per_s"])
    return res
