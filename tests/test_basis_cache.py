"""The identity the numeric J pulls back (or pushes forward) is made once per size and kept
(``backends.engine.basis``): no J handed out may be that shared tensor or a view of it, or a
caller writing into one answer would change the next. PyTorch is the oracle."""

from __future__ import annotations

import pytest
import torch

import jacli
from jacli.analysis import autograd as ag
from jacli.backends import engine
from jacli.backends.tensors import TorchBackend
from jacli.language.program import parse_program


IMPLS = ("af_rev", "af_fwd", "vjp_vmap", "jvp_vmap")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("source", ["x", "x + 0*x", "2*x"])
def test_a_j_written_into_does_not_change_the_next(impl, source):
    program = parse_program(source)
    B = TorchBackend()
    point = {"x": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)}
    expected = torch.autograd.functional.jacobian(
        lambda x: 2 * x if source == "2*x" else x + 0 * x, point["x"])
    first = ag.jacobian(program, B, point, ["x"], impl)
    assert torch.equal(first, expected)
    first.add_(7.0)  # the caller owns the J it was given
    again = ag.jacobian(program, B, point, ["x"], impl)
    assert torch.equal(again, expected)
    eye = engine.basis(3, torch.float64, torch.device("cpu"))
    assert torch.equal(eye, torch.eye(3, dtype=torch.float64))


def test_the_api_identity_j_is_the_callers_to_keep():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64)
    for mode in ("fwd", "rev"):
        J = jacli.jacobian("x", at={"x": x}, mode=mode, symbolic="never").jacobian.numeric
        J.tensor.mul_(0.0)
        assert jacli.jacobian("x", at={"x": x}, mode=mode).jacobian.numeric == [[1, 0], [0, 1]]


def test_the_basis_is_kept_for_a_few_sizes_and_fresh_past_the_limit():
    cpu = torch.device("cpu")
    assert engine.basis(5, torch.float64, cpu) is engine.basis(5, torch.float64, cpu)
    assert engine.basis(5, torch.float32, cpu).dtype == torch.float32
    for n in range(6, 12):  # at most a few kept: the oldest go
        engine.basis(n, torch.float64, cpu)
    assert len(engine._BASES) <= 4
    big = int(engine.BASIS_ENTRIES ** 0.5) + 1
    assert engine.basis(big, torch.float32, cpu) is not engine.basis(big, torch.float32, cpu)


def test_torch_objects_that_are_not_tensors_read_as_values_or_are_refused():
    assert jacli.jacobian("x", at={"x": torch.Size([1, 2])}).jacobian.numeric == [[1, 0],
                                                                                 [0, 1]]
    with pytest.raises(jacli.JacliError, match="--at x: expected real numbers"):
        jacli.jacobian("x", at={"x": torch.float64})


def test_tensor_subclasses_read_as_tensors_and_other_torch_values_are_refused():
    class Tagged(torch.Tensor):
        pass

    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True).as_subclass(Tagged)
    assert jacli.jacobian("x**2", at={"x": x}).jacobian.numeric == [[2, 0], [0, 4]]
    for bad, says in ((torch.max(torch.ones(2, 2), 1), "(values, indices) pair"),
                      ([torch.tensor(1.0, requires_grad=True)], "nested list of numbers")):
        with pytest.raises(jacli.JacliError, match=f"--at x: expected .*{says}".replace(
                "(", r"\(").replace(")", r"\)")):
            jacli.jacobian("x", at={"x": bad})
