"""End to end: what a user waits for, against hand-written PyTorch doing the same job.

Each case is a paired ratio (``timing.paired``: jacli and the anchor back to back, the order
alternating, the median of the per-round ratios), so a slow stretch of the shared machine
hits both sides of a round alike. The hand-written code is in ``HAND`` (text, shown in
docs/benchmarks.md, and run from that very text). Cases (``which``):

* ``api``        ``jacli.jacobian(src, at=..., symbolic="never")`` — the scalar system
  ``x{i}**2*x{i+1}+sin(x{i})`` (300×300, point as text) and ``tanh(W @ x + b)`` (256×256,
  values as tensors when the API takes them, else as text; J wrt x) — vs the best of
  ``jacrev``, ``jacfwd``, ``AF.jacobian`` reverse and forward-mode (vectorize=True);
* ``batch``      one ``jacli batch`` process answering small requests over a pipe (programs
  repeating, points fresh, symbolic side on) vs a hand loop doing only the numeric J;
* ``cli``        whole one-shot processes vs the import floor ``python -c "import torch,
  sympy"``: a numeric ``jacli vjp`` and ``jacli --help``; and, for information, a pasted
  two-layer network (``HAND["network"]``) through ``jacli vjp --file`` vs PyTorch running it;
* ``atfile``     ``jacli jacobian … --at-file`` on 10⁵ points 3→3 (whole process) vs the naive
  hand script (``json.loads`` per line, ``vmap(jacrev)``, ``json.dumps`` per row);
* ``structure``  the CLI's ``structure`` of a 200×200 J, right after torch work on its
  default threads, many times: its median and its worst (the thread fight's variance).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from startup import jacli_argv
from timing import clock, interleaved, paired, repeat

FLOOR = [sys.executable, "-c", "import torch, sympy"]
ATFILE_SOURCE = "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3"

# the hand-written side of every case, as the docs show it (run from this text)
HAND = {
    "api": '''\
import torch
AF = torch.autograd.functional
def scalar_system(x):            # n scalar outputs x{i}**2*x{i+1} + sin(x{i}), i cyclic
    xs = x.unbind(0)
    n = len(xs)
    return torch.stack([xs[i]**2 * xs[(i + 1) % n] + torch.sin(xs[i]) for i in range(n)])
def layer(x):                    # W, b: tensors already in memory
    return torch.tanh(W @ x + b)
HAND = {"jacrev": lambda f, x: torch.func.jacrev(f)(x),
        "jacfwd": lambda f, x: torch.func.jacfwd(f)(x),
        "af_rev": lambda f, x: AF.jacobian(f, x, vectorize=True),
        "af_fwd": lambda f, x: AF.jacobian(f, x, vectorize=True, strategy="forward-mode")}
# scalar system: x = torch.tensor(point_floats, dtype=torch.float64); J = HAND[s](scalar_system, x)
''',
    "batch": '''\
import torch
AF = torch.autograd.functional
FUNCTIONS = {  # the requests' programs, by hand
    "x1**2+2*x2, x1*x2": lambda x: torch.stack([x[0]**2 + 2*x[1], x[0]*x[1]]),
    "sin(x1)*x2, x1**2": lambda x: torch.stack([torch.sin(x[0])*x[1], x[0]**2]),
    "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3":
        lambda x: torch.stack([x[0]**2 + 2*x[1] + x[2], x[0] + x[1]**3 + x[2]**2,
                               2*x[0] + x[1]**2 + x[2]**3]),
}
def answer(expr, point):         # the numeric J only, as a list
    x = torch.tensor(point, dtype=torch.float64)
    return AF.jacobian(FUNCTIONS[expr], x, vectorize=True).tolist()
''',
    "atfile": '''\
import json, sys
import torch
def f(x):
    x1, x2, x3 = x
    return torch.stack([x1**2 + 2*x2 + x3, x1 + x2**3 + x3**2, 2*x1 + x2**2 + x3**3])
with open(sys.argv[1]) as fh:
    rows = [json.loads(line) for line in fh]
X = torch.tensor([[r["x1"], r["x2"], r["x3"]] for r in rows], dtype=torch.float64)
Y = torch.func.vmap(f)(X)
J = torch.func.vmap(torch.func.jacrev(f))(X)
with open(sys.argv[2], "w") as out:
    for i, (y, j) in enumerate(zip(Y.tolist(), J.tolist())):
        out.write(json.dumps({"index": i, "value": y, "jacobian": j}) + "\\n")
''',
    "network": '''\
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(1)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 3)
    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))
net = Net()
x = torch.randn(2, 4)
loss = F.cross_entropy(net(x), torch.tensor([0, 2]))
loss.backward()
''',
}
TARGETS = {"api scalar 300×300": 1.3, "api tanh(W@x+b) 256×256 wrt x": 1.3,
           "api tanh(W@x+b) 256×256 wrt W": 1.3,
           "api tanh(W@x+b) 256×256 wrt x, values as text": 1.0, "batch": 3.0,
           "cli vjp": 1.0, "cli --help": 0.1, "atfile": 0.40, "structure": 0.010}


def e2e_case(case: dict) -> dict:
    which = case["which"]
    rows = {"api": api_rows, "batch": batch_rows, "cli": cli_rows, "atfile": atfile_rows,
            "structure": structure_rows}[which](case)
    for row in rows:
        target = row.get("target")
        value = row["ratio"] if "ratio" in row else row.get("worst")
        row["pass"] = None if target is None or value is None else value <= target
    return {"rows": rows}


def _hand(name: str) -> dict:
    ns: dict = {}
    exec(HAND[name], ns)  # our own text above, not user input
    return ns


def _paired_row(label: str, jacli, anchors: dict, budget: float, note: str = "") -> dict:
    """jacli vs the fastest anchor (interleaved medians), then paired with it."""
    fns = {"jacli": jacli, **{f"hand/{k}": f for k, f in anchors.items()}}
    for f in fns.values():
        f()  # first calls (imports, caches) out of the timing
    costs = {k: min(clock(f), clock(f)) for k, f in fns.items()}
    timed = interleaved(fns, costs, budget=budget, min_reps=3, max_reps=15, burst=0.02)
    best = min((k for k in timed if k != "jacli"), key=lambda k: timed[k]["median"])
    k = max(1, min(25, int(0.02 / max(costs["jacli"], costs[best]))))
    rounds = max(5, min(31, int(budget / (2 * k * max(costs["jacli"], costs[best])))))
    p = paired(repeat(jacli, k), repeat(fns[best], k), rounds)
    return {"label": label, "jacli_s": timed["jacli"]["median"], "anchor": best,
            "anchor_s": timed[best]["median"], "ratio": p["median"], "rounds": rounds,
            "medians": {k: v["median"] for k, v in timed.items()}, "note": note,
            "target": TARGETS.get(label)}


def api_rows(case: dict) -> list[dict]:
    import torch

    import jacli

    hand = _hand("api")
    n = case.get("n", 300)
    src = ", ".join(f"x{i}**2*x{i % n + 1}+sin(x{i})" for i in range(1, n + 1))
    values = [0.1 + (i % 17) / 10 for i in range(n)]
    text = ",".join(f"{v:g}" for v in values)

    def scalar_hand(s):
        return lambda: hand["HAND"][s](hand["scalar_system"],
                                       torch.tensor(values, dtype=torch.float64))

    got = torch.tensor(jacli.jacobian(src, at=text, symbolic="never").jacobian.numeric,
                       dtype=torch.float64)
    assert torch.allclose(got, scalar_hand("af_rev")(), rtol=1e-12), "J differs from the hand's"
    rows = [_paired_row(f"api scalar {n}×{n}",
                        lambda: jacli.jacobian(src, at=text, symbolic="never"),
                        {s: scalar_hand(s) for s in hand["HAND"]}, case.get("budget", 6))]
    size = case.get("size", 256)
    g = torch.Generator().manual_seed(size)
    W = torch.randn(size, size, generator=g, dtype=torch.float64) / size ** 0.5
    b, x = (torch.randn(size, generator=g, dtype=torch.float64) for _ in range(2))
    hand.update(W=W, b=b)
    at, note = {"W": W, "b": b, "x": x}, "values as tensors"
    try:
        jacli.jacobian("tanh(W @ x + b)", at=at, wrt="x", symbolic="never")
    except Exception:  # an API without array input: values as text, as the CLI takes them
        at = tuple(f"{k}={json.dumps(t.tolist())}" for k, t in at.items())
        note = "values as text (this API takes no tensors)"
    got = jacli.jacobian("tanh(W @ x + b)", at=at, wrt="x", symbolic="never").jacobian.numeric
    assert torch.allclose(torch.tensor(got, dtype=torch.float64), hand["HAND"]["jacrev"](hand["layer"], x),
                          rtol=1e-12), "J differs from the hand's"
    rows.append(_paired_row(f"api tanh(W@x+b) {size}×{size} wrt x",
                            lambda: jacli.jacobian("tanh(W @ x + b)", at=at, wrt="x",
                                                   symbolic="never"),
                            {s: (lambda s=s: hand["HAND"][s](hand["layer"], x))
                             for s in hand["HAND"]}, case.get("budget", 6), note))
    rows.append(_wrt_w_row(jacli, hand, at, W, size, case))
    rows.append(_text_row(jacli, hand, W, b, x, size, case))
    return rows


def _wrt_w_row(jacli, hand, at: dict, W, size: int, case: dict) -> dict:
    """J wrt the weights (size × size², 16.8 M entries at 256): ``max_entries`` raised.
    Forward mode by hand needs a size²×size² basis (34 GB at 256): reverse only."""
    def layer_w(w):
        return hand["torch"].tanh(w @ at["x"] + at["b"])

    def run():
        return jacli.jacobian("tanh(W @ x + b)", at=at, wrt="W", symbolic="never",
                              max_entries=size ** 3)

    assert hand["torch"].equal(run().jacobian.numeric.tensor,
                               hand["HAND"]["jacrev"](layer_w, W).reshape(size, -1)), \
        "J wrt W differs from the hand's"
    return _paired_row(f"api tanh(W@x+b) {size}×{size} wrt W",
                       run, {"jacrev": lambda: hand["HAND"]["jacrev"](layer_w, W)},
                       case.get("budget", 6), "values as tensors, max_entries raised")


def _text_row(jacli, hand, W, b, x, size: int, case: dict) -> dict:
    """Values as text, as a script or a shell hands them over: jacli reads the text against
    the floor ``json.loads`` + ``torch.tensor`` (then the same jacrev)."""
    torch = hand["torch"]
    texts = {k: json.dumps(t.tolist()) for k, t in (("W", W), ("b", b), ("x", x))}
    at = [f"{k}={t}" for k, t in texts.items()]

    def by_hand():
        v = {k: torch.tensor(json.loads(t), dtype=torch.float64) for k, t in texts.items()}
        return torch.func.jacrev(lambda x: torch.tanh(v["W"] @ x + v["b"]))(v["x"])

    return _paired_row(f"api tanh(W@x+b) {size}×{size} wrt x, values as text",
                       lambda: jacli.jacobian("tanh(W @ x + b)", at=at, wrt="x",
                                              symbolic="never"),
                       {"json.loads+torch.tensor+jacrev": by_hand}, case.get("budget", 6),
                       "the floor: json.loads + torch.tensor on the same text")


# after each jacli round, longer than ``jacli batch`` polls stdin for (cli/requests_in.py,
# 2 ms): a polling process beside the hand loop could slow it on a shared host, in jacli's
# favour; so jacli's first request of a round pays the wake-up of a sleeping reader
QUIET_S = 0.004


def batch_rows(case: dict) -> list[dict]:
    hand = _hand("batch")
    exprs = list(hand["FUNCTIONS"])
    k = case.get("per_round", 12)

    def requests(r: int) -> list[tuple[str, list[float]]]:
        """Round r's requests, each at a point no request had before (three decimals, as a
        user types them): a repeated point would find SymPy's cache warm, which made jacli
        look ~1.9× faster than a stream of fresh points (measured)."""
        out = []
        for i in range(k):
            expr = exprs[i % len(exprs)]
            nvars = 3 if "x3" in expr else 2
            out.append((expr, [round(0.5 + ((r * k + i) * 3 + j) / 1000, 3)
                               for j in range(nvars)]))
        return out

    proc = subprocess.Popen(jacli_argv() + ["batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)

    def jacli_round(reqs):
        for expr, pt in reqs:
            proc.stdin.write(json.dumps({"command": "jacobian", "expr": expr,
                                         "at": ",".join(map(repr, pt))}) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline())
            assert "error" not in answer, answer

    def hand_round(reqs):
        for expr, pt in reqs:
            hand["answer"](expr, pt)

    try:
        for r in range(case.get("warmup", 4)):
            jacli_round(requests(r))
            hand_round(requests(r))
        ratios, jt, ht = [], [], []
        for r in range(case.get("rounds", 25)):
            reqs = requests(100 + r)
            order = [(jacli_round, jt), (hand_round, ht)][:: 1 if r % 2 else -1]
            for fn, sink in order:
                sink.append(clock(lambda fn=fn: fn(reqs)) / k)
                if fn is jacli_round:  # let its poll end: the hand loop runs beside a
                    time.sleep(QUIET_S)  # sleeping jacli, never beside a polling one
            ratios.append(jt[-1] / ht[-1])
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return [{"label": "batch", "jacli_s": statistics.median(jt), "anchor": "hand loop (numeric J)",
             "anchor_s": statistics.median(ht), "ratio": statistics.median(ratios),
             "rounds": len(ratios), "target": TARGETS["batch"],
             "note": f"per request, {k} a round, symbolic side on"}]


def _process_pairs(a: list[str], b: list[str], rounds: int, stdout=None) -> dict:
    """Whole processes a and b, back to back (order alternating): medians and the median
    of the per-round ratios a/b."""
    def run(argv):
        start = time.perf_counter()
        out = open(stdout, "w") if stdout else subprocess.DEVNULL
        try:
            code = subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL).returncode
        finally:
            if stdout:
                out.close()
        if code != 0:
            raise RuntimeError(f"exit {code}: {' '.join(argv)[:200]}")
        return time.perf_counter() - start

    run(a), run(b)  # page the libraries in
    ta, tb = [], []
    for r in range(rounds):
        for argv, sink in [(a, ta), (b, tb)][:: 1 if r % 2 else -1]:
            sink.append(run(argv))
    return {"a": statistics.median(ta), "b": statistics.median(tb),
            "ratio": statistics.median(x / y for x, y in zip(ta, tb))}


def cli_rows(case: dict) -> list[dict]:
    rounds, base, rows = case.get("rounds", 5), jacli_argv(), []
    for label, args in (("cli vjp", ["vjp", "x1**2+2*x2, x1*x2", "--at", "1,2", "--v", "1,1"]),
                        ("cli --help", ["--help"])):
        p = _process_pairs(base + args, FLOOR, rounds)
        rows.append({"label": label, "jacli_s": p["a"], "anchor": "import floor (torch, sympy)",
                     "anchor_s": p["b"], "ratio": p["ratio"], "rounds": rounds,
                     "target": TARGETS[label], "note": "jacli " + " ".join(args)})
    return rows + [_network_row(base, case.get("script_rounds", 2))]


def _network_row(base: list[str], rounds: int) -> dict:
    """A learner's pasted network (two ``nn.Linear``, ``F.cross_entropy``, 43 parameters):
    ``jacli vjp --file`` with every formula, exact value and check, against PyTorch running
    the script itself (its one ``backward``). For information: no target."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "net.py")
        with open(script, "w") as f:
            f.write(HAND["network"])
        p = _process_pairs(base + ["vjp", "--file", script, "--json"],
                           [sys.executable, script], rounds)
    return {"label": "cli script: a two-layer network", "jacli_s": p["a"],
            "anchor": "python net.py (PyTorch's own run)", "anchor_s": p["b"],
            "ratio": p["ratio"], "rounds": rounds, "target": None,
            "note": "jacli vjp --file net.py --json: formulas, exact values, check"}


def atfile_rows(case: dict) -> list[dict]:
    from many_points import NAMES, points

    N, rounds = case.get("points", 100_000), case.get("rounds", 3)
    with tempfile.TemporaryDirectory() as tmp:
        pts, script = os.path.join(tmp, "pts.jsonl"), os.path.join(tmp, "naive.py")
        with open(pts, "w") as f:
            f.writelines(json.dumps(dict(zip(NAMES, p))) + "\n" for p in points(N))
        with open(script, "w") as f:
            f.write(HAND["atfile"])
        sink = os.path.join(tmp, "out.jsonl")
        argv = jacli_argv() + ["jacobian", ATFILE_SOURCE, "--at-file", pts, "--format", "json"]
        p = _process_pairs(argv, [sys.executable, script, pts, sink], rounds, stdout=sink)
    return [{"label": "atfile", "jacli_s": p["a"], "anchor": "naive hand script",
             "anchor_s": p["b"], "ratio": p["ratio"], "rounds": rounds,
             "target": TARGETS["atfile"], "note": f"N={N:,}, 3→3, whole processes"}]


def structure_rows(case: dict) -> list[dict]:
    import numpy as np
    import torch

    from jacli import hooks

    structure = hooks.structure
    g = torch.Generator().manual_seed(200)
    A = torch.randn(200, 200, generator=g, dtype=torch.float64)
    # J as the CLI's numeric stage holds it: a tensor (``Floats``' own), not nested lists
    J, work = A, torch.randn(400, 400, dtype=torch.float64)

    def numpy_way():  # what structure did before: NumPy's SVD and slogdet, its own threads
        B = J.numpy()
        np.linalg.svd(B, compute_uv=False)
        np.linalg.slogdet(B)

    times: dict = {"jacli": [], "numpy (before)": []}
    cpu: dict = {"jacli": [], "numpy (before)": []}
    for _ in range(case.get("calls", 40)):
        for name, fn in (("jacli", lambda: structure(J, 200, 200, None)),
                         ("numpy (before)", numpy_way)):
            work @ work  # torch's threads just busy, as after J's computation
            c0 = time.process_time()  # every thread of this process: spinning ones count
            times[name].append(clock(fn))
            cpu[name].append(time.process_time() - c0)
    # the target is the worst wall time (the "every time"); CPU time beside it: on
    # the shared machine a wall time also holds other processes' time slices
    return [{"label": "structure" if name == "jacli" else f"structure, {name}",
             "jacli_s": statistics.median(ts), "worst": max(ts), "best": min(ts),
             "worst_wall": max(ts), "cpu_s": statistics.median(cpu[name]),
             "worst_cpu": max(cpu[name]),
             "target": TARGETS["structure"] if name == "jacli" else None,
             "note": f"200×200 J, {len(ts)} calls, each after a torch matmul"}
            for name, ts in times.items()]
