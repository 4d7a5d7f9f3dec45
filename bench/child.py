"""One benchmark case in one fresh process: ``python bench/child.py '<case json>'``.

Prints progress to stderr and, as its last stdout line, ``RESULT <json>``. A fresh process
per case keeps import costs honest (the first torch.func call imports torch._dynamo, the
first autograd call warms caches) and keeps one case's memory out of the next one's peak.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

HEAVY = ("torch", "sympy", "numpy", "torch._dynamo")


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (10**6 bytes; Linux reports
    ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def main() -> None:
    case = json.loads(sys.argv[1])
    kind = case["kind"]
    if kind in ("compile", "compile1"):
        _compile_environment(case)
    if case.get("threads"):
        import torch

        torch.set_num_threads(int(case["threads"]))
    if kind == "startup":
        from startup import startup_case
        result = startup_case(case)
    elif kind in ("scalar", "tensor"):
        from numeric import numeric_case
        result = numeric_case(case)
    elif kind == "firstcall":
        from numeric import firstcall_case
        result = firstcall_case(case)
    elif kind == "firstcall1":
        from numeric import firstcall1
        result = firstcall1(case)
    elif kind == "symbolic":
        from symbolic_case import symbolic_case
        result = symbolic_case(case)
    elif kind == "memory":
        result = memory_case(case)
    elif kind == "manypoints":
        from many_points import many_points_case
        result = many_points_case(case)
    elif kind == "batch":
        from batch_case import batch_case
        result = batch_case(case)
    elif kind == "compile":
        from compile_stretch import compile_case
        result = compile_case(case)
    elif kind == "compile1":
        from compile_stretch import first_call_case
        result = first_call_case(case)
    else:
        raise SystemExit(f"unknown case kind {kind!r}")
    result["case"] = case
    result["peak_rss_mb"] = rss_mb()
    print("RESULT " + json.dumps(result), flush=True)


def _compile_environment(case: dict) -> None:
    """Before torch or JAX is imported: an empty inductor cache (every compilation is paid
    in full, as on a first run) and, with --threads 1, single-threaded XLA too."""
    import atexit
    import shutil
    import tempfile

    cache = tempfile.mkdtemp(prefix="jacli-bench-inductor-")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
    if case.get("threads") == 1:
        os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                              "intra_op_parallelism_threads=1")


def memory_case(case: dict) -> dict:
    """Peak RSS of jacli's numeric path alone, measured from inside this (fresh) process."""
    from numeric import build

    base = rss_mb()
    import importlib

    for module in ("torch", "jacli.autograd"):  # the imports' own footprint, reported apart
        importlib.import_module(module)
    after_import = rss_mb()
    b = build(case)
    start = time.perf_counter()
    if case.get("path") == "e2e":
        from jacli.compute import compute

        result = compute(b["problem"])
        ok = result.jacobian.numeric is not None
    else:
        J = b["jacli"]()
        ok = tuple(J.shape) == (b["m"], b["n"])
    seconds = time.perf_counter() - start
    return {"rss_start_mb": base, "rss_after_import_mb": after_import, "seconds": seconds,
            "ok": ok, "m": b["m"], "n": b["n"]}


if __name__ == "__main__":
    main()
