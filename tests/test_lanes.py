"""Scalar systems in lanes (``runtime.lanes``) give the numbers of the program run as written,
bit for bit: J in both modes and the value, float64 and float32, for every function lanes
batch (``SAFE``) and every operator. If a torch release changes a kernel so that a vector
and one element round differently, these tests name the function to drop from ``SAFE``."""

from __future__ import annotations

import random

import pytest
import torch

from jacli.analysis import autograd as ag
from jacli.analysis.prepare import prepare
from jacli.backends.functions import TABLE
from jacli.backends.tensors import TorchBackend
from jacli.request.problem import build
from jacli.runtime import lanes as lanes_module


@pytest.fixture(autouse=True)
def lanes_for_any_size(monkeypatch):
    """Lanes at every size here (small systems run as written by default, ``pays``)."""
    monkeypatch.setattr(lanes_module, "MIN_OPERATIONS", 0)
    monkeypatch.setattr(lanes_module, "GROUP_COST", 0)
    ag.LANES.clear()
    yield
    ag.LANES.clear()


def test_small_systems_run_as_written_by_default(monkeypatch):
    monkeypatch.undo()
    ag.LANES.clear()
    small, _, _ = _setup("x1**2+2*x2, x1*x2", "1,2")
    large, B, point = _setup(", ".join(f"x{i}**2*x{i % 40 + 1}" for i in range(1, 41)),
                             ",".join(["1.5"] * 40))
    assert ag.in_lanes(small.program, B, _setup("x1**2+2*x2, x1*x2", "1,2")[2],
                        small.wrt) is None
    assert ag.in_lanes(large.program, B, point, large.wrt) is not None


def _setup(source: str, at: str, dtype: str = "float64", wrt=None):
    problem = build("jacobian", source, at=at, dtype=dtype, wrt=wrt,
                    given=["dtype"] + (["wrt"] if wrt else []))
    setup = prepare(problem)
    B = TorchBackend(problem.dtype, problem.device)
    return setup, B, B.point(setup.point)


def _both_ways(monkeypatch, source: str, at: str, dtype: str = "float64", wrt=None):
    """(in lanes, as written): J by each implementation, and the value."""
    setup, B, point = _setup(source, at, dtype, wrt)
    assert ag.in_lanes(setup.program, B, point, setup.wrt) is not None, "not run in lanes"
    fast = [ag.jacobian(setup.program, B, point, setup.wrt, impl) for impl in ("af_rev", "af_fwd")]
    fast.append(ag.value(setup.program, B, point))
    with monkeypatch.context() as m:
        m.setattr(ag, "in_lanes", lambda *args: None)
        slow = [ag.jacobian(setup.program, B, point, setup.wrt, impl)
                for impl in ("af_rev", "af_fwd")]
        slow.append(ag.value(setup.program, B, point))
    return fast, slow


def _point(n: int, lo: float, hi: float, rng: random.Random) -> str:
    return ",".join(repr(rng.uniform(lo, hi)) for _ in range(n))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fn", sorted(lanes_module.SAFE))
def test_each_functionin_lanes_is_bit_identical(monkeypatch, fn, dtype):
    rng = random.Random(fn)
    lo, hi = TABLE[fn].domain
    n = 37  # past a vector register's width, with a remainder, as torch's loops see it
    source = ", ".join(f"{fn}(x{i}) * x{i % n + 1} + {fn}(x{(i + 3) % n + 1})"
                       for i in range(1, n + 1))
    fast, slow = _both_ways(monkeypatch, source, _point(n, lo, hi, rng), dtype)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and torch.equal(a, b), (fn, dtype, (a - b).abs().max())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_operators_literals_and_namesin_lanes(monkeypatch, dtype):
    rng = random.Random(7)
    n = 23
    terms = []
    for i in range(1, n + 1):
        j, k = i % n + 1, (i + 5) % n + 1
        terms.append(rng.choice([
            f"x{i}**2*x{j} + sin(x{i})", f"2*x{i} - x{j}/3 + 0.1", f"x{i}/x{k} - 1.5**2",
            f"-x{i}**3 + exp(x{j})*x{k}", f"(x{i} + x{j})**0.5", f"x{i}**x{j}", f"1/x{i} + pi",
            f"x{i}**-2 - tanh(x{j} - x{k})"]))
    source = "a = x1*x2\n" + ", ".join(terms) + ", a + x3, a*a"
    fast, slow = _both_ways(monkeypatch, source, _point(n, 0.5, 2.0, rng), dtype)
    for a, b in zip(fast, slow):
        assert torch.equal(a, b), (a - b).abs().max()


def test_a_subset_of_the_variables_and_a_scalar_output(monkeypatch):
    source = "x1**2*x2 + sin(x3)*x1"
    fast, slow = _both_ways(monkeypatch, source, "0.3,1.7,-0.4", wrt="x1,x3")
    assert fast[0].shape == (1, 2) and fast[2].shape == ()
    for a, b in zip(fast, slow):
        assert torch.equal(a, b)


def test_the_bench_system_matches_hand_written_pytorch():
    """300 outputs x{i}**2*x{i+1} + sin(x{i}) as PyTorch code writes them, scalar by scalar."""
    n = 300
    source = ", ".join(f"x{i}**2*x{i % n + 1}+sin(x{i})" for i in range(1, n + 1))
    values = [0.1 + (i % 17) / 10 for i in range(n)]
    setup, B, point = _setup(source, ",".join(map(repr, values)))

    def hand(x):
        xs = x.unbind(0)
        return torch.stack([xs[i]**2 * xs[(i + 1) % n] + torch.sin(xs[i]) for i in range(n)])

    x = torch.tensor(values, dtype=torch.float64)
    for impl, strategy in (("af_rev", "reverse-mode"), ("af_fwd", "forward-mode")):
        want = torch.autograd.functional.jacobian(hand, x, vectorize=True, strategy=strategy)
        assert torch.equal(ag.jacobian(setup.program, B, point, setup.wrt, impl), want)


@pytest.mark.parametrize("source, at", [
    ("sigmoid(x1)*x2, x1", "0.3,0.2"),  # a vector kernel that rounds differently
    ("x1[0]*x2, x2", "x1=[1,2],x2=3"),  # a tensor variable
    ("maximum(x1, x2), x1", "1,2"),  # a function lanes do not batch
    ("p = 2\nx1**p, x2", "1,2"),  # an exponent bound to a name: a Python float as written
])
def test_what_lanes_leave_as_written(source, at):
    setup, B, point = _setup(source, at)
    scalars = all(point[k].dim() == 0 for k in point)
    assert not scalars or ag.in_lanes(setup.program, B, point, setup.wrt) is None


def test_in_lanes_the_mode_with_fewer_passes(cli_json):
    """Each lanes call works on a batch of m VJPs or n JVPs: the smaller batch wins, whatever
    the literals (as written, the literal rule decides), and the CLI says so."""
    from jacli.analysis.modes import choose_mode

    assert choose_mode(30, 300, lanes=True)[:2] == ("rev", "af_rev")
    assert choose_mode(300, 30, lanes=True)[:2] == ("fwd", "af_fwd")
    assert choose_mode(300, 300, lanes=True)[:2] == ("fwd", "af_fwd")
    assert choose_mode(300, 30, "rev", lanes=True)[:2] == ("rev", "af_rev")  # asked for
    n = 60
    wide = ", ".join(" + ".join(f"x{k % n + 1}**2*x{(k + 1) % n + 1}" for k in range(i, i + 10))
                     for i in range(0, n, 10))  # 6 outputs of 60 inputs, no literal
    r = cli_json("jacobian", wide, "--at", ",".join(["1.5"] * n), "--symbolic", "never")
    assert r["strategy"].startswith("reverse mode") and "run in lanes" in r["strategy"]


def test_a_repeated_program_runs_in_lanes_again_with_the_same_numbers():
    """A program seen before (batch, the API in a loop) keeps whether it runs in lanes: its
    later requests run in lanes again, with the J a fresh request computes."""
    import jacli
    from jacli.analysis import numeric

    n = 40
    source = ", ".join(f"x{i}**2*x{i % n + 1}+sin(x{i})" for i in range(1, n + 1))
    points = [",".join(repr(0.1 + (i * k % 13) / 10) for i in range(n)) for k in (1, 2, 3)]
    answers = [jacli.jacobian(source, at=p, symbolic="never") for p in points]
    assert all("run in lanes" in a.strategy for a in answers)
    numeric.SHAPES.clear()  # forgotten: asked afresh
    fresh = jacli.jacobian(source, at=points[2], symbolic="never")
    assert "run in lanes" in fresh.strategy
    assert torch.equal(answers[2].jacobian.numeric.tensor, fresh.jacobian.numeric.tensor)
