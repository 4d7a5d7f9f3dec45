"""The symbolic side at 200×200: the full run (``--symbolic always``) against the numeric
part alone (``--symbolic never``), a stage-by-stage breakdown and a cProfile summary.

The in-process ratio (warm medians of ``compute``) is the strict one and decides pass/fail;
whole-CLI wall times (which share the ~2 s import floor) are reported beside it. ``compute``
leaves the Result's strings unprinted until something reads them (a table reads a dozen
rows, JSON reads all), so the profiled run also calls ``to_dict()``: its stage table shows
what printing every string costs a JSON run.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time

import programs
from startup import jacli_argv
from timing import clock, interleaved


def symbolic_case(case: dict) -> dict:
    from jacli import Problem, compute

    m, n = case["m"], case["n"]
    src, _, names, pt = programs.scalar_system(m, n)
    always = Problem(src, command="jacobian", at=(pt,), symbolic="always")
    never = Problem(src, command="jacobian", at=(pt,), symbolic="never")
    start = time.perf_counter()
    compute(never)
    cold_never = time.perf_counter() - start
    start = time.perf_counter()
    r_always = compute(always)
    cold_always = time.perf_counter() - start
    skipped = [x for x in r_always.notices if "symbolic" in x and "skip" in x]
    res = {"m": m, "n": n, "source_chars": len(src), "notices": list(r_always.notices)[:5],
           "symbolic_skipped": bool(skipped), "agree": r_always.check.agree
           if r_always.check else None, "cold_first_call": {"never": cold_never,
                                                             "always": cold_always}}
    print(f"[symbolic] first calls: never {cold_never:.2f}s always {cold_always:.2f}s",
          file=sys.stderr, flush=True)
    costs = {"always": clock(lambda: compute(always)), "never": clock(lambda: compute(never))}
    res["timed"] = interleaved({"always": lambda: compute(always), "never": lambda: compute(never)},
                               costs, budget=case["budget"], min_reps=case.get("min_reps", 3),
                               max_reps=case.get("max_reps", 9))
    res["ratio"] = res["timed"]["always"]["median"] / res["timed"]["never"]["median"]
    res["profile"] = _profile(lambda: compute(always).to_dict())
    res["cli"] = _cli(src, pt, case.get("cli_rounds", 1))
    return res


# (stage, jacli function names, name of the caller to restrict to or None); read from the
# profile by name so the breakdown survives refactors of jacli's internals
STAGES = [
    ("parse (parse_program)", ("parse_program",), None),
    ("--at values (parse_point)", ("parse_point",), None),
    ("numeric stage (torch: forward, J, tolist)", ("numeric",), None),
    ("symbolic stage total", ("symbolic",), None),
    ("  symbolic evaluation (interpret.run on SymPy)", ("run",), "symbolic"),
    ("  diff (symbolic.jacobian)", ("jacobian",), "symbolic"),
    ("  exact substitution (substitute)", ("substitute",), None),
    ("compare entries (_entries / classify)", ("_entries", "entries"), None),
    ("  of which classify", ("classify",), None),
    ("compare (compare)", ("compare",), None),
    ("strings, printed when read (to_dict: every one)", ("texts",), None),
    ("structure notices", ("_structure_notices", "structure_notices"), None),
    ("J structure (rank, det, cond: SVD, slogdet)", ("structure",), None),
]


def _stages(stats: pstats.Stats) -> dict:
    """Cumulative profiled seconds per stage (profiling inflates them; compare fractions)."""
    out = {}
    for label, names, caller in STAGES:
        best = 0.0
        for (path, _, func), (_, _, _, ct, callers) in stats.stats.items():
            if "/jacli/" not in path or func not in names:
                continue
            if caller is None:
                best = max(best, ct)
            else:
                best = max(best, sum(v[3] for (cp, _, cf), v in callers.items()
                                     if cf == caller and "/jacli/" in cp))
        if best:
            out[label] = best
    return out


def _profile(fn) -> dict:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = []
    for (path, line, func), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append({"func": f"{_short(path)}:{line}({func})", "calls": nc, "tottime": tt,
                     "cumtime": ct, "jacli": "/jacli/" in path})
    own = sorted(rows, key=lambda r: -r["tottime"])[:12]
    jacli = sorted((r for r in rows if r["jacli"]), key=lambda r: -r["cumtime"])[:14]
    return {"total": total, "by_tottime": own, "jacli_by_cumtime": jacli,
            "stages": _stages(stats)}


def _short(path: str) -> str:
    for key in ("/jacli/", "/site-packages/", "/lib/python"):
        if key in path:
            return path.split(key, 1)[1] if key != "/jacli/" else "jacli/" + path.split(key, 1)[1]
    return os.path.basename(path)


def _cli(src: str, pt: str, rounds: int) -> dict:
    """Whole ``jacli jacobian --file F --at P --symbolic M`` processes, table and --json."""
    if rounds <= 0:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(src)
    argv = jacli_argv() + ["jacobian", "--file", f.name, "--at", pt]
    variants = {f"{mode} {fmt}": argv + ["--symbolic", mode] + (["--json"] if fmt == "json" else [])
                for mode in ("never", "always") for fmt in ("json", "table")}
    times = {k: [] for k in variants}
    try:
        for _ in range(rounds):
            for key, args in variants.items():
                start = time.perf_counter()
                subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times[key].append(time.perf_counter() - start)
    finally:
        os.unlink(f.name)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}
