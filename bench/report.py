"""Turn the children's results into the console table and ``docs/benchmarks.md``.

Everything printed or written here is computed from a run's results; nothing is typed in.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys

import report_e2e
from startup import shown
from strategies import ALL, TARGET_SET, best_hand

STRATS = tuple(ALL)  # jacrev jacfwd af_rev af_fwd grad_loop backward_loop
NUMERIC_TARGET = 1.10
SYMBOLIC_TARGET = 5.0
MEMORY_TARGET_MB = 500.0
MANY_POINTS_TARGET = 1.20
RERUN = "python bench/run.py              # full, ~20 min on 2 cores\n" \
        "python bench/run.py --quick      # ~5 min, for development\n" \
        "python bench/run.py --threads 1  # steadier on a busy machine\n" \
        "python bench/run.py --only 'scalar 50' --no-write   # one case, docs untouched"


# -- machine ------------------------------------------------------------------------------
def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine() -> dict:
    import importlib.metadata as md

    def version(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "?"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "?")
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {"nproc": cores, "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "torch": version("torch"),
            "sympy": version("sympy"), "numpy": version("numpy"), "typer": version("typer"),
            "rich": version("rich"), "jacli": version("jacli"),
            "orjson": version("orjson"),  # ? = not installed: --at-file writes by repr
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "load_before": loadavg(), "executable": shown(sys.executable)}
    info["commit"] = _git_commit()
    info["summary"] = (f"{info['nproc']} cores ({cpu}), Python {info['python']}, "
                       f"torch {info['torch']}, sympy {info['sympy']}, typer {info['typer']}")
    return info


def _git_commit() -> str:
    """HEAD's short hash, noting uncommitted changes under src/ (what was measured)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
    return (head or "?") + (" + uncommitted changes in src/" if dirty else "")


# -- formatting -----------------------------------------------------------------------------
def secs(t) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def ratio(x) -> str:
    return "—" if x is None else (f"{x:.3f}" if x < 1 else f"{x:.2f}")


def verdict(ok) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


# -- the summary ------------------------------------------------------------------------------
def summary_rows(results: list[dict], markdown: bool = False) -> list[list[str]]:
    code = (lambda t: f"`{t}`") if markdown else (lambda t: t)  # noqa: E731
    rows = []
    for r in results:
        case = r["case"]
        if "error" in r:
            rows.append([case["name"], "ERROR", r["error"].strip().splitlines()[-1][:60],
                         "—", "—", "FAIL"])
        elif case["kind"] == "startup":
            floor = r["floor"]["median"]
            for row in r["rows"]:
                mods = "" if row["modules_ok"] else f" (loaded {','.join(row['loaded'])})"
                rows.append([code(row["label"]), secs(row["median"]), f"import floor {secs(floor)}",
                             ratio(row["ratio"]), f"≤ {row['target']:.2f}",
                             verdict(row["pass"]) + mods])
        elif case["kind"] in ("scalar", "tensor"):
            c = r["candidates"]
            name, best = best_hand(c)
            j = c["jacli"].get("median")
            rr = j / best if j and best else None
            pair = r.get("paired") or {}
            pr = pair.get("ratio", rr)  # runs before pairing was added: the medians' ratio
            rows.append([f"{case['name']} (m={r['m']}, n={r['n']})", jacli_cell(r),
                         f"{name} {secs(best)}",
                         (f"{ratio(pr)} paired (medians {ratio(rr)}" + lone_cell(c, name) + ")"
                          if pair else ratio(rr) + lone_cell(c, name)),
                         f"≤ {NUMERIC_TARGET:.2f}",
                         verdict(pr is not None and pr <= NUMERIC_TARGET)])
        elif case["kind"] == "symbolic":
            t = r["timed"]
            ok = r["ratio"] <= SYMBOLIC_TARGET and not r["symbolic_skipped"] and r["agree"]
            rows.append([f"{case['name']} full run (--symbolic always)",
                         secs(t["always"]["median"]),
                         f"numeric part (--symbolic never) {secs(t['never']['median'])}",
                         ratio(r["ratio"]), f"≤ {SYMBOLIC_TARGET:.1f}", verdict(ok)])
        elif case["kind"] == "manypoints":
            rows += many_points_rows(r)
        elif case["kind"] == "compile":
            rows += compile_rows(r)
        elif case["kind"] == "batch":
            rows.append([f"jacli batch: per request, small problems, after {r['warmup']} "
                         f"(median of {r['requests']}, 1 in 10 a bad line)", secs(r["median"]),
                         f"in-process jacli.hooks.batch_answer {secs(r['in_process']['median'])}",
                         "—", f"≤ {secs(r['target_s'])}",
                         verdict(r["median"] <= r["target_s"] and r["ok"])
                         + ("" if r["ok"] else f" ({r['problems'][:1]})")])
        elif case["kind"] == "e2e":
            rows += report_e2e.summary_rows(r, markdown)
        elif case["kind"] == "memory":
            peak = r["peak_rss_mb"]
            rows.append([case["name"], f"{peak:.0f} MB peak RSS",
                         f"after import {r['rss_after_import_mb']:.0f} MB", "—",
                         f"≤ {MEMORY_TARGET_MB:.0f} MB", verdict(peak <= MEMORY_TARGET_MB and r["ok"])])
    return rows


SUMMARY_HEADERS = ["case", "jacli (median)", "best anchor (median)", "ratio", "target", "result"]


def rate(points_per_s: float) -> str:
    return f"{points_per_s / 1e6:.2f} M points/s" if points_per_s >= 1e6 else \
        f"{points_per_s / 1e3:.0f} k points/s"


def best_of(cands: dict, prefix: str, group: str):
    """(name, entry) of the fastest correct candidate whose name starts with ``prefix``."""
    timed = [(k, c) for k, c in cands.items()
             if k.startswith(prefix) and c.get("group") == group and "median" in c and c["ok"]]
    return min(timed, key=lambda kc: kc[1]["median"]) if timed else (None, None)


def many_points_rows(r: dict) -> list[list[str]]:
    """The J and vᵀJ rows (target: jacli's batched core ≤ 1.2× the best hand-written batched
    PyTorch), then the end-to-end CLI, reported beside the target, not in it."""
    c, N, rows = r["candidates"], r["points"], []
    for group, label, key in (("J", "J", "jacli"), ("vjp", "vᵀJ", "jacli/vjp")):
        pair = r.get("paired", {}).get(group)
        name, best = (pair["anchor"], c[pair["anchor"]]) if pair else best_of(c, "hand/", group)
        j = c.get(key, {})
        rr = pair["median"] if pair else (j["median"] / best["median"]
                                         if best and "median" in j else None)
        rows.append([f"many points {label}, 3→3, N={N:,} (batched core)",
                     f"{secs(j.get('median'))} ({rate(j['points_per_s'])})" if j else "—",
                     f"{name} {secs(best['median'])} ({rate(best['points_per_s'])})" if best
                     else "—", ratio(rr) + (" paired" if pair else ""),
                     f"≤ {MANY_POINTS_TARGET:.2f}",
                     verdict(rr is not None and rr <= MANY_POINTS_TARGET and j.get("ok"))])
    for command in ("jacobian", "vjp"):
        e = r["e2e"].get(f"cli {command}", {})
        if "median" not in e:
            rows.append([f"many points CLI {command} --at-file", "ERROR",
                         e.get("error", "—")[:60], "—", "—", "FAIL"])
            continue
        past = e["median"] - e["floor"]
        rows.append([f"many points CLI: jacli {command} … --at-file pts.jsonl --format json, "
                     f"N={N:,} (whole process)",
                     f"{secs(e['median'])} ({rate(N / e['median'])}; {rate(N / past)} past "
                     f"the floor)" if past > 0 else secs(e["median"]),
                     f"import floor {secs(e['floor'])}", "—", "— (reported)", "info"])
    return rows


def compile_rows(r: dict) -> list[list[str]]:
    """Stretch: jacli's eager path against the best compiled routes, compilation counted."""
    c, N, rows = r["candidates"], r["points"], []
    for group, label, key in (("J", "J", "jacli"), ("vjp", "vᵀJ", "jacli vjp")):
        j = c.get(key, {})
        best = {}
        for prefix in ("jax/", "compile/"):
            timed = [(k, e) for k, e in c.items() if k.startswith(prefix) and
                     e.get("group") == group and "total_s" in e and e.get("ok")]
            if timed:
                best[prefix] = min(timed, key=lambda ke: ke[1]["total_s"])
        jax_best = best.get("jax/")
        anchor = "; ".join(f"{k} {secs(e['total_s'])} (warm {secs(e['median'])})"
                           for k, e in best.values()) or "—"
        rr = j["total_s"] / jax_best[1]["total_s"] if jax_best and "total_s" in j else None
        rows.append([f"stretch: {label} at N={N:,}, compilation counted (one run)",
                     f"{secs(j.get('total_s'))} eager, first call (warm {secs(j.get('median'))})"
                     if j else "—", anchor, ratio(rr) + (" vs JAX" if rr else ""),
                     "— (stretch)", "info"])
    return rows


def compile_detail(r: dict) -> tuple[list[str], list[list[str]]]:
    rows = []
    for k, c in r["candidates"].items():
        if "error" in c:
            rows.append([k, c["group"], "error", c["error"][:80], "—", "—", "—", "—"])
            continue
        be = c.get("break_even_points")
        rows.append([k, "J" if c["group"] == "J" else "vᵀJ", secs(c["first_s"]),
                     secs(c.get("median")), rate(c["points_per_s"]) if "points_per_s" in c
                     else "—", secs(c.get("total_s")),
                     f"{be:,.0f}" if be is not None else "—", "ok" if c["ok"] else "MISMATCH"])
    return ["candidate", "computes", "first call (compiles)", "warm median", "warm throughput",
            "total for N, compile counted", "N where it overtakes jacli eager", "check"], rows


def many_points_detail(r: dict) -> tuple[list[str], list[list[str]]]:
    """Every candidate of a many-points case: first call, warm median and min, throughput."""
    rows = [[k, "J" if c["group"] == "J" else "vᵀJ", secs(c["first_s"]), secs(c.get("median")),
             secs(c.get("min")), rate(c["points_per_s"]) if "points_per_s" in c else "—",
             "yes" if c["dynamo"] else "—", "ok" if c["ok"] else "MISMATCH"]
            for k, c in r["candidates"].items()]
    return ["candidate", "computes", "first call", "median", "min", "throughput",
            "imported torch._dynamo", "check"], rows


def many_points_e2e(r: dict) -> tuple[list[str], list[list[str]]]:
    """Whole CLI processes and the same work in-process (warm), per command."""
    N, e, rows = r["points"], r["e2e"], []
    for command in ("jacobian", "vjp"):
        cli, inproc = e.get(f"cli {command}", {}), e.get(f"in-process {command}", {})
        if "median" in cli:
            rows.append([f"jacli {command} --at-file (process)", secs(cli["median"]),
                         rate(N / cli["median"]), f"import floor {secs(cli['floor'])}"])
        for path, t in inproc.items():
            rows.append([f"{command} in-process: read + {path} + write", secs(t), rate(N / t),
                         "warm, second run"])
    return ["what", "time", "throughput", "note"], rows


def numeric_results(results):
    return [r for r in results if r["case"]["kind"] in ("scalar", "tensor") and "error" not in r]


def strategy_rows(results, group: str) -> list[list[str]]:
    """Warm medians of each strategy on ``group``'s function, and the winner."""
    rows = []
    for r in numeric_results(results):
        c = r["candidates"]
        cells, timed = [], {}
        for s in STRATS:
            e = c.get(f"{group}/{s}", {})
            if "median" in e:
                timed[s] = e["median"]
                cells.append(secs(e["median"]) + ("~" if e.get("extrapolated") else "")
                             + ("" if e.get("ok", True) else " ✗"))
            else:
                cells.append("err" if "error" in e else "—")
        win = min((s for s in timed if s in TARGET_SET), key=timed.get, default=None)
        second = sorted((timed[s] for s in timed if s in TARGET_SET))[1:2]
        margin = f" ({second[0] / timed[win]:.1f}×)" if win and second else ""
        rows.append([r["case"]["name"], str(r["m"]), str(r["n"])] + cells
                    + [jacli_cell(r), other_mode_cell(r), (win or "—") + margin])
    return rows


def jacli_cell(r: dict) -> str:
    mode = r.get("auto_mode")
    return secs(r["candidates"]["jacli"].get("median")) + (f" [{mode}]" if mode else "")


def lone_cell(c: dict, anchor: str | None) -> str:
    """The same ratio for lone calls right after another candidate's (timing.interleaved)."""
    a, b = c["jacli"].get("after_switch"), c.get(anchor or "", {}).get("after_switch")
    bursts = c["jacli"].get("calls_per_sample", 1) > 1 or c.get(anchor or "", {}).get(
        "calls_per_sample", 1) > 1
    return f", lone {ratio(a / b)}" if a and b and bursts else ""


def other_mode_cell(r: dict) -> str:
    for k, v in r["candidates"].items():
        if k.startswith("jacli[") and "median" in v:
            return f"{secs(v['median'])} {k[5:]}"
    return "—"


def overhead_rows(results) -> list[list[str]]:
    """jacli-prog/s ÷ hand/s: the interpreter's cost under the same strategy."""
    rows = []
    for r in numeric_results(results):
        c = r["candidates"]
        cells = []
        for s in STRATS:
            a, b = c.get(f"jacli-prog/{s}", {}), c.get(f"hand/{s}", {})
            cells.append(ratio(a["median"] / b["median"]) if "median" in a and "median" in b
                         else "—")
        name, best = best_hand(c)
        jprog_best = min((c[f"jacli-prog/{s}"]["median"] for s in TARGET_SET
                          if "median" in c.get(f"jacli-prog/{s}", {})), default=None)
        same = "af_fwd" if r.get("auto_mode") == "fwd" else "af_rev"
        af = c.get(f"jacli-prog/{same}", {}).get("median")
        j = c["jacli"].get("median")
        diag = c.get("diag/hand-pow-tensor-exp/af_rev", {}).get("median")
        hand_af = c.get("hand/af_rev", {}).get("median")
        rows.append([r["case"]["name"]] + cells
                    + [(ratio(j / af) + f" ({same})") if j and af else "—",
                       ratio(jprog_best / best) if jprog_best and best else "—",
                       ratio(diag / hand_af) if diag and hand_af else "—"])
    return rows


def first_call_rows(results) -> list[list[str]]:
    rows = []
    for r in numeric_results(results):
        c = r["candidates"]
        dyn = [k for k, v in c.items() if v.get("dynamo")]
        fb = sorted({op for v in c.values() for op in v.get("vmap_fallbacks", [])})
        bad = [k for k, v in c.items() if v.get("ok") is False]
        errors = [f"{k}: {v['error']}" for k, v in c.items() if "error" in v]
        rows.append([r["case"]["name"], secs(r["parse_s"]),
                     secs(c["jacli"]["first_s"]), secs(c["jacli"].get("median")),
                     secs(c.get("jacli-e2e", {}).get("median")),
                     ", ".join(f"{k} {secs(c[k]['first_s'])}" for k in dyn) or "—",
                     ", ".join(fb) or "—",
                     "yes" if r.get("default_limits_ok") else f"no ({r['source_chars']} chars)",
                     "; ".join(bad + errors) or "all match"])
    return rows


# -- console ----------------------------------------------------------------------------------
def console(results: list[dict]) -> str:
    parts = [table(SUMMARY_HEADERS, summary_rows(results), False)]
    if numeric_results(results):
        parts.append("\nstrategy medians on the hand-written function (~ = loop extrapolated "
                     "from its first rows); winner among the issue's anchors (× = next best / best)")
        parts.append(table(["case", "m", "n", *STRATS, "jacli [auto]", "other mode", "winner"],
                           strategy_rows(results, "hand"), False))
        parts.append("\ninterpreter overhead: jacli-prog/s ÷ hand/s (same strategy); "
                     "jacli ÷ jacli-prog under jacli's strategy; best jacli-prog ÷ best hand; "
                     "hand with `x**tensor(2.)` ÷ hand, both af_rev")
        parts.append(table(["case", *STRATS, "jacli/prog same", "best prog/best hand",
                            "pow-tensor-exp/hand af_rev"],
                           overhead_rows(results), False))
    for r in results:
        if r["case"]["kind"] == "firstcall" and "error" not in r:
            headers, rows = firstcall_rows(r)
            parts.append(f"\nfirst calls, one fresh process each (import torch._dynamo alone: "
                         f"{secs(r['dynamo_import_s'])})")
            parts.append(table(headers, [[c.replace("`", "") for c in row] for row in rows],
                               False))
        if r["case"]["kind"] == "symbolic" and "error" not in r:
            parts.append("\n" + symbolic_text(r, False))
        if r["case"]["kind"] == "compile" and "error" not in r:
            parts.append(f"\n{r['case']['name']}: {r['jax']}")
            parts.append(table(*compile_detail(r), False))
        if r["case"]["kind"] == "manypoints" and "error" not in r:
            parts.append(f"\n{r['case']['name']}: N={r['points']:,}, chunk {r['chunk']:,} "
                         f"points, torch threads {r['threads']}")
            parts.append(table(*many_points_detail(r), False))
            parts.append(table(*many_points_e2e(r), False))
    return "\n".join(parts)


def symbolic_text(r: dict, markdown: bool) -> str:
    t = r["timed"]
    lines = [f"symbolic {r['m']}×{r['n']}: always {secs(t['always']['median'])} "
             f"({t['always']['reps']} reps) vs never {secs(t['never']['median'])} "
             f"({t['never']['reps']} reps): ratio {r['ratio']:.2f} (target ≤ {SYMBOLIC_TARGET}); "
             f"checks agree: {r['agree']}; symbolic skipped: {r['symbolic_skipped']}",
             f"first calls in a fresh process: never {secs(r['cold_first_call']['never'])}, "
             f"then always {secs(r['cold_first_call']['always'])}"]
    prof = r["profile"]
    total = prof["total"]
    stage_rows = [[k.replace(" ", "\u00a0", 2) if markdown and k.startswith("  ") else k,
                   secs(v), f"{100 * v / total:.0f}%"] for k, v in prof["stages"].items()]
    lines.append(f"\nwhere the time goes (one profiled --symbolic always run, {secs(total)} "
                 "under cProfile; nested stages are indented):\n")
    lines.append(table(["stage", "profiled", "share"], stage_rows, markdown))
    lines.append("\nhottest functions by own time:\n")
    lines.append(table(["function", "calls", "own", "cumulative"],
                       [[f"`{x['func']}`" if markdown else x["func"], str(x["calls"]),
                         secs(x["tottime"]), secs(x["cumtime"])] for x in prof["by_tottime"][:10]],
                       markdown))
    if r.get("cli"):
        lines.append("\nwhole CLI processes (median wall, import floor included): " + ", ".join(
            f"{k}: {secs(v)}" for k, v in r["cli"].items()))
    return "\n".join(lines)


# -- markdown ---------------------------------------------------------------------------------
def markdown(raw: dict) -> str:
    m, results = raw["machine"], raw["results"]
    out = [
        "# jacli benchmarks",
        "",
        "Generated by `bench/run.py` from a real run; do not edit by hand — rerun instead "
        "(with the Python that has jacli installed):",
        "",
        "```",
        RERUN,
        "```",
        "",
        f"- run: **{raw['mode']}**" + (f" (only cases matching {raw['only']!r})"
                                       if raw.get("only") else "")
        + f", {m['date']}, {raw['total_s'] / 60:.1f} min",
        f"- jacli at commit {m.get('commit', '?')}",
        f"- machine: {m['nproc']} cores, {m['cpu']}; {m['platform']}",
        f"- Python {m['python']}, torch {m['torch']}, sympy {m['sympy']}, numpy {m['numpy']}, "
        f"typer {m['typer']}, rich {m['rich']}, jacli {m['jacli']}, "
        f"orjson {m.get('orjson', '?')} (the optional `fast` extra; ? = not installed)",
        f"- torch threads: {m.get('threads', 'torch default')} "
        f"(numeric cases report torch.get_num_threads() = "
        f"{_threads(results)})",
        f"- load average before / after: {m['load_before']} / {m.get('load_after', '?')} "
        "(the machine is shared: ratios are from interleaved runs, absolute times are noisy)",
        "",
        "## Summary",
        "",
        "Targets. Start-up: whole processes vs the import floor "
        "(`python -c \"import torch, sympy, typer, rich\"`), round-robin. Numeric: warm median "
        "of `jacli.hooks.numeric_core(...).jacobian` vs the best of `hand/{jacrev, jacfwd, af_rev, af_fwd, "
        "grad_loop}` on the same function written by hand in PyTorch, in the same process. "
        "The best anchor is the one with the lowest interleaved median (each sample a ~3 ms "
        "burst of back-to-back calls); the ratio is then *paired*, as for many points: "
        "jacli and that anchor in back-to-back ~3 ms bursts, the median of the per-pair "
        "ratios. In brackets: the ratio of the interleaved medians, and of the lone first "
        "calls of each burst, made right after another candidate's, which also carry the "
        "cache and allocator state that candidate left (see Method). "
        "Symbolic: `compute(Problem(..., symbolic=\"always\"))` vs `symbolic=\"never\"`, warm. "
        "Memory: peak RSS (`ru_maxrss`) of a fresh process running only that path. "
        "Many points: jacli's batched core vs the best hand-written batched PyTorch on the "
        "same 3→3 function (ratio from back-to-back pairs, see that section); the whole "
        "`--at-file` CLI is reported beside it. Batch: median round trip of one request in "
        "a warm `jacli batch` process. Stretch: compilation counted, for information.",
        "",
        table(SUMMARY_HEADERS, summary_rows(results, True), True),
        "",
    ]
    out += _startup_md(results)
    out += report_e2e.section(results)
    if numeric_results(results):
        out += _numeric_md(results)
    for r in _done(results, "symbolic"):
        out += ["## Symbolic side", "", symbolic_text(r, True), ""]
    out += _firstcall_md(results)
    out += _many_points_md(results)
    out += _batch_md(results)
    out += _compile_md(results)
    out += _memory_md(results)
    out += _method_md()
    return "\n".join(out) + "\n"


def _threads(results) -> str:
    seen = sorted({str(r.get("threads")) for r in numeric_results(results)})
    return ", ".join(seen) or "—"


def _done(results, kind: str) -> list[dict]:
    """The results of the cases of ``kind`` that ran to the end."""
    return [r for r in results if r["case"]["kind"] == kind and "error" not in r]


def _startup_md(results) -> list[str]:
    out = []
    for r in _done(results, "startup"):
        out += ["## Start-up", "",
                f"`{r['jacli']}`, {r['rounds']} interleaved rounds; import floor median "
                f"{secs(r['floor']['median'])} (min {secs(r['floor']['min'])}). "
                "\"loaded\" is what `jacli.cli.main([...])` left in `sys.modules`.", "",
                table(["command", "median", "min", "× floor", "target", "loaded", "result"],
                      [[f"`{x['label']}`", secs(x["median"]), secs(x["min"]), ratio(x["ratio"]),
                        f"≤ {x['target']:.2f}", ", ".join(x["loaded"]) or "—",
                        verdict(x["pass"])] for x in r["rows"]], True), ""]
    return out


def _numeric_md(results) -> list[str]:
    return [
        "## Numeric Jacobian: strategies", "",
        "`jacli [auto mode]` is `jacli.hooks.numeric_core(...).jacobian` with the mode "
        "`jacli.hooks.numeric_core(...).choose(\"auto\")` picks, as the CLI does; `other mode` is "
        "the same call with the other mode. "
        "Three versions of every function, on identical float64 inputs, each checked against "
        "jacli's J (`torch.allclose`, rtol 1e-9) before timing: `jacli` = "
        "`jacli.hooks.numeric_core(...).jacobian(impl=...)`, the function the CLI calls; "
        "`jacli-prog/<s>` = jacli's interpreter (`autograd.forward`) as a function of one flat "
        "input under strategy `<s>`; `hand/<s>` = the same function written by hand in PyTorch. "
        "Strategies: `jacrev`/`jacfwd` = `torch.func`; `af_rev`/`af_fwd` = "
        "`torch.autograd.functional.jacobian(vectorize=True)` in reverse / "
        "`strategy=\"forward-mode\"`; `grad_loop` = one `torch.autograd.grad(y[i], x, "
        "retain_graph=True)` per output; `backward_loop` = the tutorials' "
        "`y.backward(e_i, retain_graph=True)` (anchor only, not in the 1.1× target); "
        "`vjp_vmap` / `jvp_vmap` = jacrev / jacfwd rebuilt from `torch.func.vjp` / `jvp` and "
        "`torch.vmap` (candidates for jacli, not anchors: `jvp_vmap` never imports "
        "`torch._dynamo`; `torch.func.vjp`'s pullback does, on its first call). "
        "`~` = loop timed on its first rows and scaled to m; `✗` = did not match.", "",
        "Scalar systems: m outputs over n scalars `x1..xn`, each output a sum of a few cheap "
        "terms (products, squares, sin/cos/exp) over a few variables. Tensor programs: "
        "`tanh(W2 @ tanh(W1 @ x))`, W1 m×n, W2 m×m, J with respect to x (or W1).", "",
        "### Warm medians on the hand-written function", "",
        table(["case", "m", "n", *STRATS, "jacli [auto mode]", "jacli, other mode",
               "winner (next/best)"], strategy_rows(results, "hand"), True), "",
        "### Warm medians on jacli's interpreter (`jacli-prog`)", "",
        table(["case", "m", "n", *STRATS, "jacli [auto mode]", "jacli, other mode",
               "winner (next/best)"], strategy_rows(results, "jacli-prog"), True), "",
        "### Interpreter overhead", "",
        "`jacli-prog/s ÷ hand/s` per strategy (the interpreter's cost with the strategy held "
        "fixed); `jacli ÷ jacli-prog` under the strategy jacli used (jacli's own wrapping: one "
        "0-d input per scalar variable, the extra forward for m, `cat` of blocks); best "
        "jacli-prog ÷ best hand (what jacli could reach by picking the best strategy); and a "
        "diagnostic: the hand-written scalar system with every `x**2` written as "
        "`x**torch.tensor(2.)` (what jacli's interpreter does: constants are tensors) ÷ the "
        "plain one, both under `af_rev`.", "",
        table(["case", *STRATS, "jacli ÷ jacli-prog (same strategy)", "best prog ÷ best hand",
               "`**tensor(2.)` ÷ `**2` (hand, af_rev)"], overhead_rows(results), True), "",
        "### First calls, correctness, limits", "",
        "`jacli first` is its first call in a fresh process (after imports); `jacli-e2e` is "
        "`compute(Problem(..., symbolic=\"never\"))` warm (text parsing, exact values, forward, "
        "J), measured where the point fits in `--at` text. `dynamo` = first calls that "
        "imported `torch._dynamo`. `vmap fallbacks` = ops the legacy vmap of "
        "`torch.autograd.functional` ran without a batching rule (a per-sample loop). "
        "`default limits` = whether the program parses under jacli's default `Limits`.", "",
        table(["case", "parse", "jacli first", "jacli warm", "jacli-e2e", "dynamo import",
               "vmap fallbacks", "default limits", "check"], first_call_rows(results), True), "",
    ]


def firstcall_rows(r: dict) -> tuple[list[str], list[list[str]]]:
    programs = list(r["programs"])
    names = list(next(iter(r["programs"].values())))
    rows = []
    for name in names:
        cells = [f"`{name}`"]
        for p in programs:
            e = r["programs"][p].get(name, {})
            cells.append("error" if "error" in e else
                         f"{secs(e['first_s'])} (then {secs(e['second_s'])})"
                         + (" · imports torch._dynamo" if e.get("dynamo") else ""))
        rows.append(cells)
    return ["strategy"] + [f"{p} first call (second)" for p in programs], rows


def _firstcall_md(results) -> list[str]:
    out = []
    for r in _done(results, "firstcall"):
        headers, rows = firstcall_rows(r)
        out += ["## First calls", "",
                "Each strategy's first call in its own fresh process, after `import torch` and "
                "jacli, on a small scalar system and a small tensor program: what a one-shot CLI "
                "run pays for choosing it. `import torch._dynamo` alone (after torch) costs "
                f"{secs(r['dynamo_import_s'])} here.", "", table(headers, rows, True), ""]
    return out


def _many_points_md(results) -> list[str]:
    out = []
    for r in _done(results, "manypoints"):
        out += ["## Many points (`--at-file`)", "",
                f"The seeds' 3→3 system `x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3` at "
                f"N={r['points']:,} seeded points, float64, torch threads {r['threads']}. "
                "`jacli` is `jacli.hooks.batched_core(...).run`, the batched core the `--at-file` stream calls (chunks of "
                f"{r['chunk']:,} points; tensors in and out, no file, no JSON); `jacli[f,s]` "
                "forces the forward `f` (`direct` on the columns, or `vmap`) and the J strategy "
                "`s` on the joint output (`rows`: one `autograd.grad` per output; `isgb`: one "
                "`autograd.grad(..., is_grads_batched=True)`) instead of jacli's per-output "
                "rows. `hand/*` is the function written by hand in PyTorch, on an (N, 3) tensor: "
                "`vmap_jacrev`/`vmap_jacfwd` (`torch.func` of the one-point function), `isgb`, "
                "`rows`, `backward` (`Y.backward(V)`), `grad` (`autograd.grad(Y, X, V)`); or on "
                "three contiguous (N,) columns: `cols_isgb`, `cols_per_output` (one "
                "`autograd.grad` per output through that output alone), `cols_backward`, and "
                "`*_view` (the same, results written into a (3, ·, N) buffer and returned as an "
                "(N, 3, ·) view instead of stacked). All checked against each other (rtol "
                "1e-12) before timing; first calls run in this order in one process, so only "
                "the first `torch.func` user pays the `torch._dynamo` import. "
                "Medians are interleaved, each sample a call repeated for ~30 ms; the summary's "
                "ratio is *paired*: jacli and the best anchor (by median) called back to back "
                f"{_pairs(r)} times, the median of the per-pair ratios — on this shared machine "
                "whole stretches run ~2× slower, and a back-to-back pair sees the same "
                "conditions where two medians over a minute need not.",
                "", table(*many_points_detail(r), True), "",
                "End to end, beside the target: whole `jacli` processes on a "
                f"{r['e2e']['file_mb']:.1f} MB JSON Lines file (import floor, reading, the "
                "symbolic Jacobian once and the exact check at 3 points, JSON Lines to a file), "
                "and the same work in-process, warm: through `jacli.hooks.points_lines` (the rows "
                "formatted a chunk at a time) and through `evaluate_many` + "
                "`json.dumps(strict(row))` per row (what `cli_io.emit_many` does).", "",
                table(*many_points_e2e(r), True), ""]
    return out


def _batch_md(results) -> list[str]:
    out = []
    for r in _done(results, "batch"):
        rows = [[k, secs(t)] for k, t in r["by_kind"].items()]
        out += ["## Many requests (`jacli batch`)", "",
                "One `jacli batch` process fed one JSON Lines request at a time over a pipe "
                "(write a line, read the answer), every request a small problem with a fresh "
                "point, every tenth a bad line (not JSON, a parse error, an unknown key) that "
                f"must come back as an error object while the stream goes on "
                f"({'it did' if r['ok'] else 'it did NOT: ' + '; '.join(r['problems'])}). "
                f"First answer (import floor and first calls included) {secs(r['first_s'])}; "
                f"then, after {r['warmup']} warm-up requests, {r['requests']} timed: median "
                f"{secs(r['median'])}, min {secs(r['min'])}, 90th percentile {secs(r['p90'])}; "
                f"the same requests in-process (`jacli.hooks.batch_answer` + `json.dumps`): median "
                f"{secs(r['in_process']['median'])}.", "",
                table(["request", "median round trip"], rows, True), ""]
    return out


def _compile_md(results) -> list[str]:
    out = []
    for r in _done(results, "compile"):
        out += ["## Stretch: compiled throughput at N ≥ 10⁶", "",
                f"The 3→3 system at N={r['points']:,} points, float64, torch threads "
                f"{r['threads']}; {r['jax']}. Candidates as described in "
                "`bench/compile_stretch.py`. The first call of each is made in its own fresh "
                "process (after the imports) with an empty inductor cache, so each "
                "`torch.compile` pays its whole compilation, the lazy `torch._dynamo` import "
                "included (a second run on the same machine would find most of it cached); "
                "`total` is that first call: compilation plus the N points once. Warm medians "
                "are interleaved in one process. The last column is where "
                "a compiled route's warm speed would repay its compilation against jacli's "
                "eager path (N* = compile time ÷ (1/eager rate − 1/compiled rate)).", "",
                table(*compile_detail(r), True), ""]
    return out


def _pairs(r: dict) -> str:
    return "/".join(str(p["rounds"]) for p in r.get("paired", {}).values()) or "0"


def _memory_md(results) -> list[str]:
    rows = [[r["case"]["name"], f"{r['rss_start_mb']:.0f} MB", f"{r['rss_after_import_mb']:.0f} MB",
             f"{r['peak_rss_mb']:.0f} MB", secs(r["seconds"]),
             verdict(r["peak_rss_mb"] <= MEMORY_TARGET_MB and r["ok"])]
            for r in _done(results, "memory")]
    if not rows:
        return []
    return ["## Memory", "",
            "Peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, MB = 10^6 bytes) of a fresh "
            f"process that runs only this path; target ≤ {MEMORY_TARGET_MB:.0f} MB.", "",
            table(["case", "at start", "after import torch+jacli", "peak", "time", "result"],
                  rows, True), ""]


def _method_md() -> list[str]:
    return ["## Method", "",
            "- One fresh process per case (`bench/child.py`), so import costs and first calls "
            "are honest and one case's memory never counts toward another's.",
            "- Candidates are timed round-robin (interleaved), each with a share of the case's "
            "time budget, 3–15 repeats (1 when a call is very slow); the table shows medians. "
            "Each round runs the candidates in a fresh seeded random order, so none always "
            "follows the same neighbour. In the numeric cases a repeat is a burst of k "
            "back-to-back calls (k = 3 ms / cost, 1–25): the first call is timed alone "
            "(`lone`), the other k − 1 together, and the sample is their time per call (a "
            "call of 1.5 ms or more is its own burst). A lone sub-millisecond call right after "
            "another candidate's is 60–170 µs slower than in a loop, by an amount that "
            "depends on that candidate (scalar 3×3: ~230 µs in a loop, ~350 µs lone). Until "
            "this run the order was rotated, which keeps every candidate's predecessor: jacli "
            "then always followed the same heavy `torch.func` call, and its lone calls were "
            "+45% where the anchors' were not (measured), which inflated its medians. The "
            "numeric target is judged on the paired ratio (see Summary). "
            "The garbage collector is frozen after set-up and disabled during each call.",
            "- Loops whose full run would exceed the case's loop cap are timed on their first "
            "rows and scaled by m/rows (marked `~`): every backward pass there costs the same.",
            "- torch and NumPy use every core by default. On a 2-core machine with another job "
            "running, multi-threaded BLAS calls can be many times slower than single-threaded "
            "ones (seen here: a 200×200 SVD at ~0.26 s instead of ~2 ms); ratios stay fair "
            "because every candidate shares the process, but `--threads 1` gives steadier "
            "numbers. The CLI itself runs with torch's default.",
            "- Raw numbers: `bench/last_run.json`.", ""]
