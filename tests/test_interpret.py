"""The lowered interpreter: the fast (unguarded) closures agree with the guarded ones, literals
beside tensors behave as in hand-written PyTorch, and failures still name their node."""

from __future__ import annotations

import gc
from fractions import Fraction

import pytest
import sympy as sp
import torch

from jacli.analysis.autograd import forward
from jacli.backends.tensors import TorchBackend
from jacli.runtime import interpret
from jacli.errors import ShapeError
from jacli.language import parse_program
from jacli.backends.symbolic import SymbolicBackend

SOURCES = [
    "2*x", "x*2", "x/4", "1/x", "7/x", "0/x", "2**x", "1e39**x", "x**2", "x**-2", "x**-0.5",
    "x**0.5", "x - 3", "3 - x", "-x + 1", "-3*x", "x*-3",
    "p = 2; x**p", "p = 3; 2**p + x", "a = 1/3; a*x + 0.1", "(x + 1)*(x - 1)/7",
    "sin(2*x) + exp(x/3)", "2*3 + x", "pi*x",
]


# (source, point): half powers only at a positive point (a complex value is refused upstream)
CASES = [(s, at) for s in SOURCES for at in (Fraction(7, 5), Fraction(-3, 2))
         if at > 0 or "0.5" not in s]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("source, at", CASES)
def test_fast_and_guarded_agree_with_the_exact_value(source, at, dtype):
    program = parse_program(source)
    B = TorchBackend(dtype)
    x = B.tensor(at)
    fast = forward(program, B, {"x": x})
    guarded = torch.as_tensor(interpret.run(program, B, {"x": x}))
    assert fast.dtype == guarded.dtype == B.dtype
    assert torch.equal(fast, guarded)  # the same arithmetic, bit for bit
    S = SymbolicBackend()
    exact = sp.Integer(0) + interpret.run(program, S, {"x": S.exact(at)})[()]
    exact = sp.N(exact, 30)
    rtol = 1e-12 if dtype == "float64" else 1e-6
    if dtype == "float32" and abs(exact) > torch.finfo(torch.float32).max:  # 1e39**x
        assert torch.isinf(fast)
    else:
        assert float(fast) == pytest.approx(float(exact), rel=rtol)


def test_a_literal_is_a_python_scalar_beside_a_tensor_as_hand_written_code_has_it():
    """``2*x`` records what PyTorch records for ``2*x`` typed by hand. (``c/x`` and ``c**x``
    keep c a tensor: torch's scalar forms round differently, see ``SCALAR_SIDES``.)"""
    B = TorchBackend()
    x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    for source, hand in [("2*x", 2 * x), ("x**2", x**2), ("x/4", x / 4), ("x**-2", x**-2),
                         ("-3*x", -3 * x), ("x - 1", x - 1)]:
        y = forward(parse_program(source), B, {"x": x})
        assert type(y.grad_fn).__name__ == type(hand.grad_fn).__name__, source
        assert torch.equal(y, hand)


def test_a_program_is_lowered_once_per_backend():
    program = parse_program("sin(x)*y")
    B = TorchBackend()
    point = {"x": B.tensor(Fraction(1)), "y": B.tensor(Fraction(2))}
    assert interpret.compiled(program, B) is interpret.compiled(program, B)
    forward(program, B, point)
    forward(program, B, point)
    assert len(B.lowered) == 1


def test_a_failure_in_the_fast_path_is_named_by_the_guarded_rerun():
    program = parse_program("y = x + 1\nz = y * x\nz + [1, 2, 3]")
    B = TorchBackend()
    with pytest.raises(ShapeError) as e:
        forward(program, B, {"x": B.tensor([Fraction(1), Fraction(2)])})
    assert (e.value.line, e.value.column) == (3, 1)
    assert "add of shapes" in str(e.value) and e.value.source == program.source


def test_commands_that_run_on_collect_garbage_again(cli):
    """The console script turns the cyclic GC off for one command; batch turns it back on."""
    gc.disable()
    try:
        assert cli("batch", stdin=b'{"command": "grad", "expr": "x**2", "at": "3"}\n').code == 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


@pytest.mark.parametrize("raised, limit", [
    (RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried to "
                  "allocate 8000000000 bytes"), True),
    (MemoryError(), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
])
def test_a_failed_allocation_in_J_is_a_limit_and_nothing_else_is(monkeypatch, raised, limit):
    from jacli.analysis import autograd
    from jacli.errors import LimitError

    def fail(*args):
        raise raised

    monkeypatch.setattr(autograd, "_jacobian", fail)
    B = TorchBackend("float64", "cpu")
    program = parse_program("x**2")
    point = {"x": torch.tensor(1.0, dtype=torch.float64)}
    with pytest.raises(LimitError if limit else type(raised)) as caught:
        autograd.jacobian(program, B, point, ["x"])
    if limit:
        assert "out of memory computing the numeric Jacobian" in str(caught.value)
    else:
        assert caught.value is raised  # re-raised as it was, traceback and all


def test_an_elementwise_row_lowers_to_the_torch_function_itself():
    """One builtin call per node, as hand-written PyTorch makes it (no lambdas around it)."""
    from jacli.backends.functions import TABLE

    B = TorchBackend()
    assert B.function(TABLE["sin"]) is torch.sin
    assert B.function(TABLE["softplus"]) is torch.nn.functional.softplus
    x = torch.tensor([0.5, 2.0], dtype=torch.float64)
    assert torch.equal(B.function(TABLE["sum"])(x), x.sum())  # other rows: backend bound


def test_a_point_keeps_its_scalars_as_views_of_one_vector():
    B = TorchBackend()
    point = B.point({"b": Fraction(1, 4), "w": [Fraction(1), Fraction(2)], "a": Fraction(3)})
    assert list(point) == ["b", "w", "a"]  # the order given
    names, vector = point.scalars
    assert names == ("b", "a") and vector.tolist() == [0.25, 3.0]
    assert point["b"].dim() == 0 and point["b"]._base is vector and point["a"].item() == 3.0
    assert point["w"].tolist() == [1.0, 2.0]


# J of [a*b**2, sin(a) + b, a*b] at (a, b) = (3/2, -2/3), exactly
_SCALAR_J = [[4 / 9, -2.0], [0.0707372016677029, 1.0], [-2 / 3, 1.5]]


@pytest.mark.parametrize("impl", ["af_rev", "af_fwd", "vjp_vmap", "jvp_vmap"])
@pytest.mark.parametrize("how", ["point", "dict", "reordered"])
def test_every_implementation_of_J_gives_the_same_matrix(impl, how):
    """All four strategies ``choose_mode`` may pick, on a scalar system (its flat input from
    the point's own vector, from a stack, and in another order than the point's) and on a
    tensor program (one 1-D, one 2-D and two variables differentiated)."""
    from jacli.analysis.autograd import jacobian

    B = TorchBackend()
    values = {"a": Fraction(3, 2), "b": Fraction(-2, 3)}
    point = B.point(values) if how != "dict" else {k: B.tensor(v) for k, v in values.items()}
    wrt = ["b", "a"] if how == "reordered" else ["a", "b"]
    J = jacobian(parse_program("a*b**2, sin(a) + b, a*b"), B, point, wrt, impl)
    expected = torch.tensor(_SCALAR_J, dtype=torch.float64)
    assert torch.allclose(J, expected if how != "reordered" else expected.flip(1), rtol=1e-12)

    W = [[Fraction(1, 2), Fraction(-1)], [Fraction(2), Fraction(1, 3)], [Fraction(0), Fraction(1)]]
    point = B.point({"W": W, "x": [Fraction(1), Fraction(-2)]})
    program = parse_program("tanh(W @ x)")
    Wt, x = point["W"].clone(), point["x"].clone()
    for wrt, inputs in [(["x"], (x,)), (["W"], (Wt,)), (["x", "W"], (x, Wt))]:
        def f(*args):
            bound = dict(zip(wrt, args))
            return torch.tanh(bound.get("W", Wt) @ bound.get("x", x))

        blocks = torch.autograd.functional.jacobian(f, inputs)
        reference = torch.cat([blk.reshape(3, -1) for blk in blocks], dim=1)
        assert torch.allclose(jacobian(program, B, point, wrt, impl), reference, rtol=1e-12), wrt
