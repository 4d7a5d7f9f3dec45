"""jacli's benchmark suite: ``python bench/run.py [--quick] [--only TEXT] [--no-write]``.

Every case runs in its own fresh process (``bench/child.py``), so import costs are honest:
start-up (whole ``jacli`` processes against the import floor), numeric Jacobians (jacli
against hand-written PyTorch under every strategy), the symbolic side at 200×200, peak
memory, many points (``--at-file``: the batched core against hand-written batched PyTorch,
and the whole CLI), many requests (``jacli batch``) and the stretch (compiled throughput at
10⁶ points, JAX as an optional anchor), and end to end (``bench/e2e.py``: what a user waits
for — an API call, ``jacli batch``, a one-shot process, ``--at-file`` — against hand-written
PyTorch doing the same job). Prints a table of ratios and medians and writes
``docs/benchmarks.md`` (and the raw numbers to ``bench/last_run.json``). ``--quick`` takes
~5 minutes, the full run ~20.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import report  # noqa: E402


def scalar(m, n, budget=5.0, **kw):
    return {"kind": "scalar", "name": f"scalar {m}×{n}", "m": m, "n": n, "budget": budget,
            "loop_cap": kw.pop("loop_cap", 2.0), **kw}


def banded(m, n, budget=5.0, **kw):
    return scalar(m, n, budget, banded=True, name=f"scalar banded {m}×{n}", **kw)


def e2e(which: str, name: str, **kw) -> dict:
    return {"kind": "e2e", "which": which, "name": f"end to end: {name}", **kw}


def e2e_cases(quick: bool) -> list[dict]:
    """What a user waits for (bench/e2e.py), each against hand-written PyTorch."""
    return [e2e("api", "API call", budget=3 if quick else 8),
            e2e("batch", "jacli batch", rounds=25),  # 9 let one slow stretch set the median
            e2e("cli", "one-shot CLI", rounds=2 if quick else 5),
            e2e("atfile", "--at-file 10⁵ points", rounds=1 if quick else 3),
            e2e("structure", "structure 200×200", calls=20 if quick else 60)]


def tensor(n_out, n_in, wrt="x", budget=5.0, **kw):
    name = f"tensor {n_out}×{n_in}" + (f" wrt {wrt}" if wrt != "x" else "")
    return {"kind": "tensor", "name": name, "n_out": n_out, "n_in": n_in, "wrt": wrt,
            "budget": budget, "loop_cap": kw.pop("loop_cap", 2.0), **kw}


def many_points(budget: float, cli_rounds: int, points: int = 100_000) -> dict:
    return {"kind": "manypoints", "name": f"many points 3→3 N={points}", "points": points,
            "budget": budget, "cli_rounds": cli_rounds, "max_reps": 40}


def cases(quick: bool) -> list[dict]:
    if quick:
        return [
            {"kind": "startup", "name": "startup", "rounds": 3},
            scalar(3, 3, 2, loop_cap=0.5), scalar(50, 50, 3, loop_cap=0.5),
            scalar(200, 10, 3, loop_cap=0.5), scalar(10, 200, 3, loop_cap=0.5),
            scalar(1000, 1000, 6, loop_cap=0.5, slow=1.0, min_reps=2),
            tensor(16, 16, budget=2, loop_cap=0.5), tensor(256, 256, budget=3, loop_cap=0.5),
            tensor(512, 512, budget=4, loop_cap=0.5, slow=1.0, min_reps=2),
            {"kind": "symbolic", "name": "symbolic 200×200", "m": 200, "n": 200, "budget": 8,
             "min_reps": 2, "cli_rounds": 0},
            {"kind": "memory", "name": "memory scalar 1000×1000 (jacli numeric path)",
             "m": 1000, "n": 1000},
            many_points(budget=6, cli_rounds=1),
            {"kind": "batch", "name": "batch requests", "warmup": 30, "requests": 150},
            {"kind": "compile", "name": "stretch: compiled N=1e6", "points": 10**6,
             "budget": 10, "max_reps": 5, "routes": ["jacli", "hand/eager", "jax/",
                                                     "compile/jacli_prog chunks"]},
            tensor(32, 32, wrt="W1", budget=2, loop_cap=0.5),
            banded(50, 50, 3, loop_cap=0.5), banded(300, 300, 4, loop_cap=0.5),
            banded(300, 30, 3, loop_cap=0.5), banded(30, 300, 3, loop_cap=0.5),
        ] + e2e_cases(True)
    return [
        {"kind": "startup", "name": "startup", "rounds": 7},
        scalar(3, 3), scalar(10, 10), scalar(50, 50), scalar(200, 200, 8),
        scalar(1000, 1000, 20, loop_cap=3.0),
        scalar(200, 10), scalar(1000, 20, 8), scalar(10, 200), scalar(20, 1000, 8),
        tensor(16, 16), tensor(64, 64), tensor(256, 256, budget=8),
        tensor(1024, 1024, budget=20, loop_cap=3.0, slow=3.0),
        tensor(1024, 16, budget=8), tensor(1024, 128, budget=8), tensor(1024, 256, budget=8),
        tensor(16, 1024, budget=8), tensor(128, 1024, budget=8), tensor(32, 32, wrt="W1"),
        {"kind": "firstcall", "name": "first calls (one fresh process per strategy)"},
        {"kind": "symbolic", "name": "symbolic 200×200", "m": 200, "n": 200, "budget": 20,
         "cli_rounds": 2},
        {"kind": "memory", "name": "memory scalar 1000×1000 (jacli numeric path)",
         "m": 1000, "n": 1000},
        {"kind": "memory", "name": "memory scalar 1000×1000 (compute, --symbolic never)",
         "m": 1000, "n": 1000, "path": "e2e"},
        {"kind": "memory", "name": "memory tensor 1024×1024 (jacli numeric path)",
         "n_out": 1024, "n_in": 1024, "wrt": "x"},
        many_points(budget=15, cli_rounds=3),
        {"kind": "batch", "name": "batch requests", "warmup": 30, "requests": 400},
        {"kind": "compile", "name": "stretch: compiled N=1e6", "points": 10**6, "budget": 20},
        banded(50, 50), banded(300, 300, 8), banded(300, 30, 6), banded(30, 300, 6),
    ] + e2e_cases(False)


def run_case(case: dict, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "child.py"), json.dumps(case)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timed out after {timeout:.0f} s"}
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"case": case, "error": (proc.stderr or proc.stdout)[-1500:]}
    result = json.loads(lines[-1][len("RESULT "):])
    result["wall_s"] = time.perf_counter() - start
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, smaller cases (~5 minutes)")
    ap.add_argument("--only", metavar="TEXT", help="run only cases whose name contains TEXT")
    ap.add_argument("--no-write", action="store_true", help="write neither docs/benchmarks.md nor bench/last_run.json")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per case")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch.set_num_threads in every case (default: torch's own choice, "
                    "as the CLI runs); 1 steadies timings on a busy machine")
    args = ap.parse_args(argv)

    selected = [c for c in cases(args.quick) if not args.only or args.only in c["name"]]
    for c in selected:
        if args.threads:
            c["threads"] = args.threads
    machine = report.machine()
    print(f"jacli benchmarks ({'quick' if args.quick else 'full'}): {len(selected)} cases, "
          f"{machine['summary']}", flush=True)
    results, start = [], time.perf_counter()
    for i, case in enumerate(selected, 1):
        print(f"[{i}/{len(selected)}] {case['name']} ...", end=" ", flush=True)
        result = run_case(case, args.timeout)
        results.append(result)
        print(f"{result.get('wall_s', 0):.1f} s" + (f"  ERROR: {result['error'][:300]}"
                                                     if "error" in result else ""), flush=True)
    machine["load_after"] = report.loadavg()
    total = time.perf_counter() - start
    print()
    print(report.console(results))
    machine["threads"] = args.threads or "torch default"
    raw = {"mode": "quick" if args.quick else "full", "only": args.only, "machine": machine,
           "total_s": total, "results": results}
    if not args.no_write:  # the two files always come from the same run
        with open(os.path.join(HERE, "last_run.json"), "w") as f:
            json.dump(raw, f, indent=1)
        path = os.path.join(ROOT, "docs", "benchmarks.md")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(report.markdown(raw))
        print(f"\nwrote {os.path.relpath(path, ROOT)} and bench/last_run.json "
              f"({total / 60:.1f} min)")
    failed = [r for r in results if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
