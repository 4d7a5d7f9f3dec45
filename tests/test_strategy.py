"""The AD strategy: which mode and implementation build J, why the CLI says so, and the
structure line (rank, determinant, condition number) that comes with it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("m, n, tensors, warm, expected", [
    (3, 1, False, False, ("rev", "af_rev")),  # scalar systems: batched VJPs, tall included
    (1000, 20, False, True, ("rev", "af_rev")),
    (16, 16, True, False, ("rev", "af_rev")),  # few outputs
    (16, 16, True, True, ("rev", "vjp_vmap")),
    (64, 64, True, False, ("fwd", "jvp_vmap")),  # cold: torch.func's reverse mode not paid
    (64, 64, True, True, ("rev", "vjp_vmap")),
    (1024, 16, True, True, ("fwd", "jvp_vmap")),
    (128, 1024, True, False, ("rev", "af_rev")),
    (40, 25_000, True, False, ("rev", "af_rev")),  # never an n×n basis for a wide J
    (300, 25_000, True, False, ("rev", "vjp_vmap")),
    (128, 1024, True, True, ("rev", "vjp_vmap")),
])
def test_mode_auto_follows_the_benchmark(m, n, tensors, warm, expected):
    from jacli.analysis.modes import choose_mode

    assert choose_mode(m, n, "auto", tensors, warm)[:2] == expected


def test_forced_reverse_mode_on_a_cold_process_avoids_dynamo_until_it_pays():
    from jacli.analysis.modes import COLD_REV_MAX, choose_mode

    assert choose_mode(COLD_REV_MAX, 10, "rev", True, False)[1] == "af_rev"
    assert choose_mode(COLD_REV_MAX + 1, 10, "rev", True, False)[1] == "vjp_vmap"
    assert choose_mode(10, 10, "fwd", False, True)[1] == "af_fwd"


@pytest.mark.parametrize("warm", [False, True])
def test_the_cli_says_which_strategy_and_why(cli_json, monkeypatch, warm):
    monkeypatch.setattr("jacli.analysis.modes.warm_process", lambda: warm)
    tall = cli_json("jacobian", "2*x**2, x**3, x", "--at", "x=2")
    assert tall["strategy"].startswith("reverse mode (torch.autograd.functional")
    assert "system of scalar variables" in tall["strategy"]
    plain = cli_json("jacobian", "x**2, x**3, x", "--at", "x=2")  # no literal in a term
    assert plain["strategy"].startswith("forward mode (torch.autograd.functional")
    assert "no number literal" in plain["strategy"]
    x = "[" + ",".join(["0.1"] * 100) + "]"
    W = "[" + ",".join([x] * 100) + "]"
    d = cli_json("jacobian", "tanh(W @ x)", "--at", f"W={W}", "--at", f"x={x}", "--wrt", "x",
                 "--symbolic", "never")
    if warm:
        assert d["strategy"].startswith("reverse mode (torch.vmap over torch.func.vjp)")
    else:
        assert d["strategy"].startswith("forward mode (torch.vmap over torch.func.jvp)")
        assert "would import torch._dynamo" in d["strategy"]
    d = cli_json("jacobian", "tanh(W @ x)[:8]", "--at", f"W={W}", "--at", f"x={x}",
                 "--symbolic", "never")
    assert d["strategy"].startswith("reverse mode (torch.vmap over torch.func.vjp)" if warm else
                                     "reverse mode (torch.autograd.functional")


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_forced_modes_agree(cli_json, mode):
    src = "b = zeros(1,2); b[0,0] = a[0,0]**2 + a[0,1]; b[0,1] = a[0,1]**3 + 2*a[0,0]; 2*b"
    d = cli_json("jacobian", src, "--at", "a=[[2,4]]", "--mode", mode)
    assert d["jacobian"]["numeric"] == [[8.0, 2.0], [4.0, 96.0]]
    assert f"--mode {mode}" in d["strategy"]


def test_a_one_shot_tensor_run_never_imports_torch_dynamo():
    """torch.func's reverse mode imports torch._dynamo (0.6–0.9 s): a cold process picks the
    strategies that do not, for tall, square and wide tensor programs alike."""
    probe = ("import sys; from jacli.cli import main; "
             "codes = [main(['jacobian', 'tanh(W @ x)', '--at', 'W=' + W, '--at', 'x=' + x, "
             "'--wrt', wrt, '--symbolic', 'never', '--json']) for wrt in ('x', 'W')]; "
             "print(codes, 'torch._dynamo' in sys.modules, file=sys.stderr)")
    x = "[" + ",".join(["0.1"] * 64) + "]"
    W = "[" + ",".join([x] * 64) + "]"
    out = subprocess.run([sys.executable, "-c", f"W = {W!r}; x = {x!r}; " + probe],
                         capture_output=True, text=True, timeout=120)
    assert out.stderr.strip().splitlines()[-1] == "[0, 0] False", out.stderr[-2000:]


@pytest.mark.parametrize("argv, code", [
    (["jacobian", "2**1000*x", "--at", "x=[1,2,3]"], 0),  # |det| past float range: inf
    (["jacobian", "exp(exp(exp(exp(exp(x)))))", "--at", "2"], 0),  # exact value: not compared
])
def test_overflow_in_exact_or_structure_is_reported_not_a_crash(cli, argv, code):
    r = cli(*argv)
    assert r.code == code and "internal error" not in r.err, r.err
