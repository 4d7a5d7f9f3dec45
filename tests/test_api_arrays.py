"""The Python API takes values, not only texts: tensors, NumPy arrays, nested lists and
numbers for ``at``, ``v`` and ``u``; and ``--at`` texts of plain decimals are read fast while
the exact value stays the decimal typed. PyTorch (float64) is the oracle for the numbers."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch

import jacli
from jacli.errors import ExitCode, JacliError
from jacli.request import values
from jacli.request.lazy import Numbers
from jacli.request.problem import build


def _tensors(n: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g, dtype=torch.float64)
            for shape in ((n, n), (n,), (n,))]


def _text(**tensors) -> str:
    """The values as ``--at`` text: ``json.dumps`` writes each float's shortest repr, which
    reads back as the same double."""
    return ",".join(f"{k}={json.dumps(t.tolist())}" for k, t in tensors.items())


@pytest.mark.parametrize("wrt", ["x", "W"])
def test_tensor_values_give_the_answer_of_their_text_and_of_pytorch(wrt):
    W, x, b = _tensors()
    by_value = jacli.jacobian("tanh(W @ x + b)", at={"W": W, "x": x, "b": b}, wrt=wrt)
    by_text = jacli.jacobian("tanh(W @ x + b)", at=_text(W=W, x=x, b=b), wrt=wrt)
    assert by_value.jacobian.numeric == by_text.jacobian.numeric
    args = {"W": W, "x": x}
    hand = torch.func.jacrev(lambda t: torch.tanh((t if wrt == "W" else W) @
                                                  (t if wrt == "x" else x) + b))(args[wrt])
    torch.testing.assert_close(torch.tensor(by_value.jacobian.numeric, dtype=torch.float64),
                               hand.reshape(4, -1), rtol=1e-12, atol=1e-14)
    assert by_value.to_dict()["point"]["W"] == W.tolist()


def test_numpy_arrays_lists_and_numbers_are_values_too():
    r = jacli.vjp("a @ x * c", at={"a": np.eye(2) * 3, "x": [1, 2], "c": 2},
                  v=np.array([1.0, 1.0]))
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (torch.eye(2, dtype=torch.float64) * 3 @ x * 2).backward(torch.ones(2, dtype=torch.float64))
    assert r.vjp.grad["x"] == x.grad.tolist()
    assert r.to_dict()["point"] == {"a": [[3, 0], [0, 3]], "x": [1, 2], "c": 2}


def test_a_float_is_taken_at_its_own_binary_value_exactly():
    r = jacli.jacobian("x**2", at={"x": 0.1})
    assert r.jacobian.exact[0][0] == str(2 * Fraction(0.1))  # not 1/5: the double, exactly
    assert r.check.agree
    typed = jacli.jacobian("x**2", at={"x": "0.1"})  # a text value is read as --at reads it
    assert typed.jacobian.exact[0][0] == "1/5"


def test_float32_values_keep_their_float32_value():
    x = torch.tensor([0.1, 3.0], dtype=torch.float32)
    r = jacli.jacobian("x**2", at={"x": x})
    assert r.point_text["x"] == f"[{Fraction(float(x[0]))}, 3]"
    assert r.jacobian.numeric[0][0] == 2 * float(x[0])


def test_the_callers_tensor_is_neither_aliased_nor_changed():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    before = x.detach().clone()
    problem = build("vjp", "x**3", at={"x": x}, v=torch.tensor([1.0, 1.0]))
    jacli.compute(problem)
    jacli.compute(problem)  # the same Problem twice: its private copy is not spoiled
    assert torch.equal(x.detach(), before) and x.grad is None and x.requires_grad
    (name, value), = problem.at
    assert name == "x" and value.data is not x and not value.data.requires_grad
    x.data[0] = 5.0  # the caller changes its tensor afterwards: the Problem keeps its values
    assert jacli.compute(problem).vjp.numeric == [3.0, 12.0]


def test_u_by_variable_and_as_an_array():
    at = {"x": torch.tensor([1.0, 2.0]), "y": 3}
    by_name = jacli.jvp("x**2*y", at=at, u={"y": 1, "x": [1, 0]})
    flat = jacli.jvp("x**2*y", at=at, u=np.array([1.0, 0.0, 1.0]))
    assert by_name.jvp.numeric == flat.jvp.numeric == [7.0, 4.0]
    with pytest.raises(JacliError, match="exactly the variables x, y"):
        jacli.jvp("x**2*y", at=at, u={"x": [1, 0]})


@pytest.mark.parametrize("bad, says", [
    (float("nan"), "finite"), (torch.tensor([1.0, float("inf")]), "finite"),
    (np.array([1.0, np.nan]), "finite"), ([[1], [2, 3]], "equal length"),
    (np.array([True, False]), "real numbers"), (torch.tensor([1 + 2j]), "real numbers"),
    ([], "at least one number"), (None, "real numbers"),
])
def test_values_that_are_not_finite_real_numbers_are_refused_in_one_line(bad, says):
    with pytest.raises(JacliError) as e:
        jacli.jacobian("x**2", at={"x": bad})
    assert says in e.value.message and "--at x" in e.value.message
    assert e.value.exit_code == ExitCode.BAD_INPUT and "\n" not in e.value.message


def test_a_name_given_twice_or_unknown_is_refused():
    with pytest.raises(JacliError, match="is not a variable"):
        jacli.jacobian("x**2", at={"y": 1.0})


# -- --at texts read fast -----------------------------------------------------------------

def test_a_typed_decimal_stays_exact_where_the_symbolic_side_runs():
    r = jacli.jacobian("x**2*y", at="x=0.1,y=[1.0, 2.5]")
    assert r.jacobian.exact[0] == ["1/5", "1/100", "0"]  # 0.1 is 1/10, not the double
    assert r.point_text == {"x": "0.1", "y": "[1, 2.5]"}
    assert r.to_dict()["point"] == {"x": 0.1, "y": [1, 2.5]}  # 1.0 is the integer 1


def test_fast_and_exact_readers_agree_on_the_floats(monkeypatch):
    texts = ["x=[1e-5, -0.0, 123456789012345678901234567890, 2.5e300]", "y=-3"]
    fast, _ = values.read_point(texts)
    exact, _ = values.parse_point(texts)
    assert isinstance(fast["x"], Numbers) and fast["x"].shape == (4,)
    assert fast["x"].data.tolist() == [float(f) for f in exact["x"]]
    assert str(fast["x"].data[1]) == "0.0"  # -0.0 is exactly 0, as the exact reader has it
    assert fast["x"].exact() == exact["x"] and fast["y"].exact() == exact["y"]
    assert fast["x"].json()[2] == 123456789012345678901234567890  # typed, exactly


@pytest.mark.parametrize("text", ["x=[1/3, 2]", "x=[.5, 1]", "x=[+1, 2]", "x=[1., 2]",
                                  "x=[1e4000, 1]", "x=[nan, 1]", "x=[]", "x=[[1],[2,3]]",
                                  "x=[1, 2],", "x=1,2", "x=[1, 2" + "0" * 500 + "]"])
def test_what_the_fast_reader_is_not_sure_of_the_exact_reader_decides(text):
    try:
        expected = values.parse_point([text])
    except JacliError as e:
        with pytest.raises(type(e)) as got:
            values.read_point([text])
        assert got.value.message == e.message
    else:
        named, _ = values.read_point([text])
        assert {k: v.exact() if isinstance(v, Numbers) else v for k, v in named.items()} \
            == expected[0]


def test_no_exact_number_is_built_when_nothing_exact_is_read(monkeypatch):
    W, x, b = _tensors(40)
    calls = []
    exact_reader = values.parse_point
    monkeypatch.setattr(values, "parse_point",
                        lambda *a, **k: calls.append(1) or exact_reader(*a, **k))
    r = jacli.jacobian("tanh(W @ x + b)", at=_text(W=W, x=x, b=b), wrt="x", symbolic="never")
    assert calls == [] and r.jacobian.numeric is not None
    assert r.point_text["x"].startswith("[")  # a renderer reads it: now it is made, exactly
    assert calls == [1]


def test_max_entries_raises_the_entry_limit_and_j_is_a_tensor():
    """J wrt the weights, past a lowered limit: refused; with the limit raised, PyTorch's own
    J (``jacrev``), held as a tensor and listed only when read."""
    import numpy as np

    import jacli
    from jacli.errors import LimitError, UsageError

    g = torch.Generator().manual_seed(3)
    W, x, b = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((6, 5), (5,), (6,)))
    at = {"W": W, "x": x, "b": b}
    with pytest.raises(LimitError):
        jacli.jacobian("tanh(W @ x + b)", at=at, wrt="W", symbolic="never", max_entries=179)
    r = jacli.jacobian("tanh(W @ x + b)", at=at, wrt="W", symbolic="never", max_entries=180)
    want = torch.func.jacrev(lambda w: torch.tanh(w @ x + b))(W).reshape(6, 30)
    assert torch.equal(r.jacobian.numeric.tensor, want)
    assert np.array_equal(np.asarray(r.jacobian.numeric), want.numpy())
    assert r.jacobian.numeric == want.tolist() and r.to_dict()["jacobian"]["numeric"] == want.tolist()
    with pytest.raises(UsageError):
        jacli.jacobian("x", at="1", max_entries=0)


def test_numeric_only_notices_name_zero_rows_and_unused_inputs():
    """With no formulas, the notices come from autograd's J as a tensor: a zero row is an
    output whose derivatives are all 0 at this point, a zero column an input whose are. They
    say "at this point": one point cannot show that nothing depends on it (x**2 at 0)."""
    import torch

    import jacli

    r = jacli.jacobian("x1*0, x1 + 0*x2, x2*0", at="1,2", symbolic="never")
    row, col = "has a zero derivative for every input at this point", \
        "every output's derivative with respect to {} is 0 at this point"
    assert set(r.notices) == {f"output y[0] {row}", f"output y[2] {row}", col.format("x2")}
    W = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    r = jacli.jacobian("tanh(W @ x)", at={"W": W, "x": torch.tensor([1.0, 2.0])}, wrt="x",
                       symbolic="never")
    assert set(r.notices) == {f"output y[1] {row}", col.format("x[1]")}
    r = jacli.jacobian("x**2", at="0", symbolic="never")
    assert not any("depend" in n for n in r.notices) and col.format("x") in r.notices


def test_dense_test_counts_nan_as_nonzero_on_every_layout():
    """``_dense`` (NumPy's ``all`` on a CPU tensor's memory) agrees with ``count_nonzero`` on
    float32/float64, transposed views, NaN and -0.0, and on a tensor NumPy cannot view."""
    import torch

    from jacli.analysis.assemble import _dense

    cases = [torch.ones(3, 4), torch.tensor([[1.0, float("nan")], [2.0, 3.0]]),
             torch.tensor([[1.0, -0.0], [2.0, 3.0]], dtype=torch.float64),
             torch.arange(1.0, 7.0).reshape(2, 3).T, torch.ones(2, 2, requires_grad=True) * 2,
             torch.ones(2, 2)._neg_view()]
    for T in cases:
        assert _dense(T) == (int(T.count_nonzero()) == T.numel()), T


def _random_at_text(rng) -> str:
    """An --at text from pieces that are valid, borderline or wrong for the fast reader."""
    def number():
        if rng.random() < 0.9:
            return rng.choice(["1", "-0", "0.5", "2.5e3", "1e-05", "-1.25E+2", "-0.0", "3e-310",
                               "123456789012345678901234567890", "0.1"])
        return rng.choice(["7" * 45, "1e4000", "1/3", ".5", "+1", "nan", "Infinity", "true",
                           '"1"', "3.", "0x1"])

    def value(depth=0):
        if depth < 2 and rng.random() < 0.4:
            items = [value(depth + 1) for _ in range(rng.randint(0, 3))]
            return "[" + rng.choice([", ", ",", " , "]).join(items) + "]"
        return number()

    blank = lambda: rng.choice(["", " ", "\t", "  "])  # noqa: E731
    count = rng.randint(1, 3)
    if rng.random() < 0.5:
        items = [blank() + value() + blank() for _ in range(count)]
    else:
        names = rng.sample(["x", "y", "w_1", "1x", "x y"], count)
        items = [blank() + n + blank() + "=" + blank() + value() + blank() for n in names]
    text = ",".join(items)
    return text + rng.choice(["", "", "", "", ",", ")", "\n"])


def test_the_fast_reader_agrees_with_the_exact_one_on_random_texts():
    """Whatever the fast reader takes, it takes as the exact reader does; whatever it leaves,
    the exact reader decides: same values, or the same refusal."""
    import random

    rng = random.Random(19)
    for _ in range(600):
        text = _random_at_text(rng)
        try:
            named, positional = values.parse_point([text])
        except JacliError as e:
            with pytest.raises(type(e)) as got:
                values.read_point([text])
            assert got.value.message == e.message, text
            continue
        fast_named, fast_positional = values.read_point([text])
        exact = lambda v: v.exact() if isinstance(v, Numbers) else v  # noqa: E731
        assert {k: exact(v) for k, v in fast_named.items()} == named, text
        assert [exact(v) for v in fast_positional] == positional, text
