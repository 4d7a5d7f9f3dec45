"""One benchmark case in one fresh process: ``python bench/child.py '<case json>'``.

Prints progress to stderr and, as its last stdout line, ``RESULT <json>``. A fresh process
per case keeps import costs honest (the first torch.func call imports torch._dynamo, the
first autograd call warms caches) and keeps one case's memory out of the next one's peak.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

HEAVY = ("torch", "sympy", "numpy", "torch._dynamo")


# case kind -> (module in bench/, function taking the case); imported only for that kind
CASES = {
    "startup": ("startup", "startup_case"), "scalar": ("numeric", "numeric_case"),
    "tensor": ("numeric", "numeric_case"), "firstcall": ("numeric", "firstcall_case"),
    "firstcall1": ("numeric", "firstcall1"), "symbolic": ("symbolic_case", "symbolic_case"),
    "manypoints": ("many_points", "many_points_case"), "batch": ("batch_case", "batch_case"),
    "compile": ("compile_stretch", "compile_case"),
    "compile1": ("compile_stretch", "first_call_case"), "e2e": ("e2e", "e2e_case"),
}


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
    if kind == "memory":
        result = memory_case(case)
    elif kind in CASES:
        module, function = CASES[kind]
        result = getattr(importlib.import_module(module), function)(case)
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
    import torch  # noqa: F401  the imports' own footprint (torch, jacli's autograd), reported apart

    from jacli import hooks

    hooks.load_numeric()
    after_import = rss_mb()
    b = build(case)
    start = time.perf_counter()
    if case.get("path") == "e2e":
        from jacli import compute

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
