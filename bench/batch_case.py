"""Many requests (``jacli batch``): per-request latency of one long-lived process.

One ``jacli batch`` process (the console script, as users run it) gets JSON Lines requests
on a pipe, one at a time: write a line, read the answer line, next. The first requests pay
the import floor and first calls; after ``warmup`` of them, each round trip of the next
``requests`` is timed. The requests cycle through small problems of every command, each
with a fresh point (so no answer is a repeat), plus a bad line every ``bad_every``
requests: the answer must be an error object and the stream must go on. Target:
median per-request time ≤ 10 ms after warm-up. Reported beside it: the same requests
answered in-process (``jacli.hooks.batch_answer``: ``jacli batch``'s own per-line answer),
i.e. what the pipe and the loop add.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time

from startup import jacli_argv

TARGET_S = 0.010

SMALL = [
    {"command": "vjp", "expr": "x1**2+2*x2, x1*x2", "at": "{a},{b}", "v": "1,1"},
    {"command": "jacobian", "expr": "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3",
     "at": "{a},{b},3"},
    {"command": "grad", "expr": "sum(x**2 + 2)", "at": "x=[{a},{b},3]"},
    {"command": "jvp", "expr": "sin(x1)*x2, x1**2", "at": "{a},{b}", "u": "1,0"},
    {"command": "hessian", "expr": "x1**2*x2 + exp(x1)", "at": "{a},{b}"},
    {"command": "vjp", "expr": "y = 2*x; z = y.view(2,2)", "at": "x=[{a},{b},3,4]",
     "v": "[[1,0.1],[0.01,0.001]]"},
]
BAD = ["not json", json.dumps({"expr": "x +"}), json.dumps({"expr": "x", "bogus": 1})]


def requests(count: int, bad_every: int) -> list[tuple[str, bool]]:
    """``(line, is_bad)``; each point fresh (a repeated one finds SymPy's cache warm)."""
    out = []
    for i in range(count):
        if bad_every and i % bad_every == bad_every - 1:
            out.append((BAD[i % len(BAD)], True))
            continue
        r = dict(SMALL[i % len(SMALL)])
        a, b = f"{1 + i / 1000:.3f}", f"{-2 + i / 997:.5f}"
        r["at"] = r["at"].format(a=a, b=b)
        r["id"] = i
        out.append((json.dumps(r), False))
    return out


def batch_case(case: dict) -> dict:
    warm, n, bad_every = case.get("warmup", 30), case.get("requests", 300), case.get("bad_every", 10)
    lines = requests(warm + n, bad_every)
    proc = subprocess.Popen(jacli_argv() + ["batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            bufsize=1)
    times, kinds, problems = [], [], []
    try:
        start = time.perf_counter()
        for i, (line, bad) in enumerate(lines):
            t0 = time.perf_counter()
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())
            dt = time.perf_counter() - t0
            if i == 0:
                first = time.perf_counter() - start
            if ("error" in answer) != bad or (not bad and answer.get("id") != i):
                problems.append(f"request {i}: {line[:60]} -> {str(answer)[:120]}")
            if i >= warm:
                times.append(dt)
                kinds.append("bad line" if bad else json.loads(line)["command"])
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    by_kind = {k: statistics.median([t for t, kk in zip(times, kinds) if kk == k])
               for k in sorted(set(kinds))}
    return {"first_s": first, "median": statistics.median(times), "min": min(times),
            "p90": sorted(times)[int(0.9 * len(times))], "requests": len(times),
            "warmup": warm, "by_kind": by_kind, "problems": problems[:5],
            "ok": not problems and proc.returncode == 0, "target_s": TARGET_S,
            "in_process": _in_process(lines[warm:], warm)}


def _in_process(lines, warm: int) -> dict:
    """The same requests through ``jacli batch``'s answer in this process (warm)."""
    from jacli.hooks import batch_answer as answer

    for line, _ in requests(warm, 0):
        answer(line)
    times = []
    for line, _ in lines:
        t0 = time.perf_counter()
        json.dumps(answer(line), allow_nan=False)
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times)}
