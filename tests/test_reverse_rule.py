"""J by reverse mode (``af_rev``) is ``torch.autograd.functional.jacobian(vectorize=True)``'s
own answer, bit for bit: jacli runs the same forward and the same batched pullback without
AF's wrappers, so every case AF handles — outputs that ignore an input, outputs that ignore
every input, detached graphs, tensors, float32 — must come back identical, and the kept
forward value must be ``value``'s. Forward mode (``af_fwd``) likewise, against AF's
``strategy="forward-mode"``."""

from __future__ import annotations

import pytest
import torch

from jacli.analysis import autograd as ag
from jacli.analysis.prepare import prepare
from jacli.backends.tensors import TorchBackend
from jacli.request.problem import build

CASES = [
    ("x1**2+2*x2, x1*x2", "1.5,-0.25", None),
    ("sin(x1)*x2, x1**2", "1.5,-0.25", None),
    ("x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", "1,2,3", None),
    ("x1**2, 3*x1 + detach(x2)", "0.5,7", None),  # no gradient reaches x2: a zero column
    ("x1 - x1 + 4", "2", None),  # constant in value, still in the graph
    ("detach(x1)*2 + 1", "2", None),  # nothing reaches x1: AF's zeros
    ("exp(x1)*cos(x2) + x1/x2", "0.3,1.7", None),  # one output
    ("tanh(W @ x + b)", "W=[[1,2],[3,-4],[0.5,6]], x=[0.1,-0.2], b=[1,2,3]", ["x"]),
    ("tanh(W @ x + b)", "W=[[1,2],[3,-4],[0.5,6]], x=[0.1,-0.2], b=[1,2,3]", ["W", "b"]),
    ("sum(x**2 + 2)", "x=[1,2,3]", None),
]


def _setup(source: str, at: str, wrt, dtype: str):
    given = ["dtype"] + (["wrt"] if wrt else [])
    problem = build("jacobian", source, at=at, dtype=dtype, wrt=wrt, given=given)
    setup = prepare(problem)
    B = TorchBackend(problem.dtype, problem.device)
    return setup, B, B.point(setup.point)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("source, at, wrt", CASES)
def test_reverse_mode_is_autograd_functional_bit_for_bit(source, at, wrt, dtype):
    setup, B, point = _setup(source, at, wrt, dtype)
    f, flat = ag.flat_function(setup.program, B, point, setup.wrt, lanes_ok=True)
    expected = torch.autograd.functional.jacobian(f, flat, vectorize=True)
    kept: list = []
    got = ag.jacobian(setup.program, B, point, setup.wrt, "af_rev", keep=kept)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert torch.equal(got, expected), (got, expected)
    value = ag.value(setup.program, B, point)
    assert torch.equal(kept[0].detach().reshape(value.shape), value)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("source, at, wrt", CASES)
def test_forward_mode_is_autograd_functional_bit_for_bit(source, at, wrt, dtype):
    """``af_fwd`` (``engine.jacfwd``): AF's forward-mode J, and the y it keeps is the
    program's own forward pass, bit for bit."""
    setup, B, point = _setup(source, at, wrt, dtype)
    f, flat = ag.flat_function(setup.program, B, point, setup.wrt, lanes_ok=True)
    expected = torch.autograd.functional.jacobian(f, flat, vectorize=True,
                                                  strategy="forward-mode")
    kept: list = []
    got = ag.jacobian(setup.program, B, point, setup.wrt, "af_fwd", keep=kept)
    assert got.dtype == expected.dtype and torch.equal(got, expected), (got, expected)
    value = ag.value(setup.program, B, point)
    assert torch.equal(kept[0].detach().reshape(value.shape), value)


def test_an_empty_output_gives_an_empty_jacobian():
    setup, B, point = _setup("x[0:0]", "x=[1,2,3]", None, "float64")
    J = ag.jacobian(setup.program, B, point, setup.wrt, "af_rev")
    assert J.shape == (0, 3)
