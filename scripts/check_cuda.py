"""Check ``--device cuda`` against ``--device cpu`` on one machine: ``python scripts/check_cuda.py``.

CI has no GPU, so the test suite can only check that ``--device cuda`` fails cleanly there
(exit 2). This script is the GPU half: it runs each case below through the real CLI entry point
twice, on the CPU and on the GPU, and compares the JSON documents key by key:

- exit codes, shapes, exact strings, formulas and the checks' verdicts must be identical;
- numbers must agree to float64 (resp. float32) round-off: GPU kernels may order sums
  differently, so bit-equality is not expected, but 1e-12 (resp. 1e-5) relative is.

Prints one line per case and exits 1 if any case differs, 2 if no CUDA device is present.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
import tempfile
from pathlib import Path

from jacli.cli import main

SQUARE = "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3"
MLP = "tanh(W2 @ tanh(W1 @ x))"


def _matrix(rows: int, cols: int, scale: float) -> str:
    return str([[round(math.sin(1 + i * cols + j) * scale, 6) for j in range(cols)]
                for i in range(rows)])


MLP_AT = ["--at", f"W1={_matrix(8, 6, 0.5)}", "--at", f"W2={_matrix(4, 8, 0.5)}",
          "--at", f"x={[round(math.cos(i), 6) for i in range(6)]}"]

CASES: list[tuple[str, list[str]]] = [
    ("S16 jacobian", ["jacobian", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2"]),
    ("S17 vjp", ["vjp", "2*x1+x2**2, x1**2+2*x2**3", "--at", "1,2", "--v", "1,2"]),
    ("3x3 vjp", ["vjp", SQUARE, "--at", "1,2,3", "--v", "1,1,1"]),
    ("S15 exact v", ["vjp", "x1*x2*x3, x1+x2+x3, x1+x2*x3", "--at", "1,2,3",
                     "--v", "0.1,0.2,0.3"]),
    ("S7 grad", ["grad", "y = x + 2; z = y*y*3; z.mean()", "--at", "x=[[1,1],[1,1]]"]),
    ("S6 mm", ["vjp", "a @ w", "--at", "a=[[2,3],[1,2]]", "--at", "w=[[0],[0]]",
               "--v", "[[1],[1]]"]),
    ("mlp jacobian", ["jacobian", MLP, *MLP_AT]),
    ("mlp jacobian fwd", ["jacobian", MLP, *MLP_AT, "--mode", "fwd"]),
    ("mlp jacobian wrt W1", ["jacobian", MLP, *MLP_AT, "--wrt", "W1"]),
    ("mlp vjp", ["vjp", MLP, *MLP_AT, "--v", "[1,-1,2,0.5]"]),
    ("jvp", ["jvp", "sin(x1)*x2, x1**2", "--at", "1,2", "--u", "1,0"]),
    ("hessian + hvp", ["hessian", "x1**2*x2 + exp(x1)", "--at", "1,2", "--v", "1,1"]),
    ("check smooth", ["check", "sin(x)*y, exp(x*y)", "--at", "x=0.3", "--at", "y=-1.2"]),
    ("check kink (exit 1)", ["check", "relu(x) + x**2", "--at", "x=0"]),
    ("x/x at 0 (exit 1)", ["jacobian", "x/x", "--at", "x=0"]),
    ("float32", ["vjp", SQUARE, "--at", "1,2,3", "--v", "1,1,1", "--dtype", "float32"]),
    ("many points (J)", ["jacobian", SQUARE, "--at", "x1=1", "--at", "x1=2", "--at", "x1=-3",
                         "--at", "x2=2", "--at", "x3=0.5", "--at", "x3=1", "--at", "x3=1.5"]),
    ("many points (vjp)", ["vjp", SQUARE, "--at", "x1=1", "--at", "x1=2", "--at", "x2=2",
                           "--at", "x3=0.5", "--at", "x3=1", "--v", "1,2,3"]),
    ("many points (tensor, vmap)", ["jacobian", "x @ x * sum(x)", "--at", "x=[1,2]",
                                    "--at", "x=[0.5,-1]", "--at", "x=[3,0]"]),
    ("softplus/sigmoid/norm", ["grad", "norm(softplus(x) * sigmoid(x))", "--at",
                               "x=[-2,0.5,3]"]),
]


def run(argv: list[str]) -> tuple[int, list[dict]]:
    """Exit code and the JSON document(s) printed (one, or one per line for many points)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main([*argv, "--json"])
    text = out.getvalue().strip()
    try:
        return code, [json.loads(text)]
    except json.JSONDecodeError:
        return code, [json.loads(line) for line in text.splitlines()]


def differences(cpu, gpu, rel: float, path: str = "") -> list[str]:
    """Paths where the two documents differ beyond ``rel`` (numbers) or at all (the rest)."""
    if isinstance(cpu, dict) and isinstance(gpu, dict):
        keys = sorted(set(cpu) | set(gpu))
        # check.worst names the entry with the largest |Δ|; where every Δ is round-off, which
        # one is largest is itself round-off, so it may differ between devices
        skip = {"device", "worst"}
        return [d for k in keys if k not in skip
                for d in differences(cpu.get(k), gpu.get(k), _rel(k, cpu.get(k), rel),
                                     f"{path}.{k}")]
    if isinstance(cpu, list) and isinstance(gpu, list) and len(cpu) == len(gpu):
        return [d for i, (a, b) in enumerate(zip(cpu, gpu))
                for d in differences(a, b, rel, f"{path}[{i}]")]
    if isinstance(cpu, float) and isinstance(gpu, float):
        ok = math.isclose(cpu, gpu, rel_tol=rel, abs_tol=rel) or cpu == gpu or (
            math.isnan(cpu) and math.isnan(gpu))
        return [] if ok else [f"{path}: cpu {cpu!r} cuda {gpu!r}"]
    return [] if cpu == gpu else [f"{path}: cpu {cpu!r} cuda {gpu!r}"]


def _rel(key: str, value, rel: float) -> float:
    """A condition number κ is only known to about κ·ε relative (it comes from an SVD)."""
    if key == "condition_number" and isinstance(value, float):
        return max(rel, 64 * 2.0**-52 * value)
    return rel


def batch_case(device: str) -> list[str]:
    """``jacli batch`` with the device given per request."""
    reqs = [{"command": "vjp", "expr": SQUARE, "at": "1,2,3", "v": "1,1,1", "device": device},
            {"command": "jacobian", "expr": MLP, "at": MLP_AT[1::2], "device": device}]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "req.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in reqs))
        out = io.StringIO()
        with open(path) as stdin, contextlib.redirect_stdout(out):
            saved, sys.stdin = sys.stdin, stdin
            try:
                main(["batch"])
            finally:
                sys.stdin = saved
    return out.getvalue().splitlines()


def implementations_case() -> list[str]:
    """Each implementation of J that ``--mode auto`` may pick (cold or warm), on the MLP and
    on a scalar system, cuda against cpu: a CLI run takes only the one its rules pick."""
    from jacli import hooks

    mlp = MLP_AT[1::2]  # read by the CLI's own --at reader: exact values
    square = ["x1=1", "x2=2", "x3=3"]
    problems = [(MLP, mlp, ["x"]), (MLP, mlp, ["W1"]), (SQUARE, square, ["x1", "x2", "x3"])]
    diff = []
    for source, at, wrt in problems:
        program = hooks.parse(source)
        for impl in hooks.IMPLS:
            J = {}
            for device in ("cpu", "cuda"):
                core = hooks.numeric_core(program, at, wrt, device=device)
                J[device] = core.jacobian(impl=impl)().cpu().tolist()
            diff += differences(J["cpu"], J["cuda"], 1e-12, f"{source[:12]} wrt {wrt} {impl}")
    return diff


def main_check() -> int:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    failed = 0
    for name, argv in CASES:
        rel = 1e-5 if "float32" in argv else 1e-12
        (c_code, c_docs), (g_code, g_docs) = run(argv), run([*argv, "--device", "cuda"])
        diff = [] if c_code == g_code else [f"exit code: cpu {c_code} cuda {g_code}"]
        diff += differences(c_docs, g_docs, rel)
        devices = {d.get("device") for d in g_docs if isinstance(d, dict) and "device" in d}
        if devices - {"cuda"}:
            diff.append(f"device reported: {sorted(devices)}")
        failed += bool(diff)
        print(f"{'ok  ' if not diff else 'DIFF'} {name:28} exit {g_code}  "
              f"{len(g_docs)} doc(s)" + "".join(f"\n      {d}" for d in diff[:6]))
    cpu_lines, gpu_lines = batch_case("cpu"), batch_case("cuda")
    diff = differences([json.loads(x) for x in cpu_lines], [json.loads(x) for x in gpu_lines],
                       1e-12)
    failed += bool(diff)
    print(f"{'ok  ' if not diff else 'DIFF'} {'batch (device per request)':28} "
          f"{len(gpu_lines)} line(s)" + "".join(f"\n      {d}" for d in diff[:6]))
    diff = implementations_case()
    failed += bool(diff)
    print(f"{'ok  ' if not diff else 'DIFF'} {'every implementation of J':28} "
          + "".join(f"\n      {d}" for d in diff[:6]))
    print(f"{len(CASES) + 2 - failed} of {len(CASES) + 2} cases agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_check())
