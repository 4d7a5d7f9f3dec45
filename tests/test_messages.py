"""First contact: every refusal says what is wrong in the user's own terms and hints at a
form that works (not the text they typed); unnamed outputs never take an input's name."""

from __future__ import annotations

import pytest
import torch


def _error(cli, *argv):
    r = cli(*argv)
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err
    hint = [line for line in r.err.splitlines() if line.startswith("hint:")]
    return r.err, (hint[0] if hint else "")


# -- np. / math. ----------------------------------------------------------------------------
@pytest.mark.parametrize("src, why, fix", [
    ("np.sin(x)", "requires grad", "torch.sin(...) or sin(...)"),
    ("math.exp(x)", "no gradient flows", "torch.exp(...) or exp(...)"),
])
def test_foreign_library_calls_say_why_and_give_the_torch_spelling(cli, src, why, fix):
    err, hint = _error(cli, "grad", src, "--at", "1")
    assert why in err and "namespace" not in err
    assert fix in hint and src not in hint


# -- --at counts -------------------------------------------------------------------------------
def test_several_numbers_for_one_variable_hint_a_bracketed_vector(cli):
    err, hint = _error(cli, "grad", "sum(x**2)", "--at", "1,2,3")
    assert '--at "x=[1,2,3]"' in hint and "x1" not in hint


def test_the_vector_hint_uses_the_given_numbers_and_works(cli_json, cli):
    _, hint = _error(cli, "grad", "sum(x**2)", "--at", "1,2.5")
    assert '--at "x=[1,2.5]"' in hint
    d = cli_json("grad", "sum(x**2)", "--at", "x=[1,2.5]")  # the hint, followed, works
    assert d["vjp"]["numeric"] == pytest.approx([2.0, 5.0])


def test_a_bracketed_list_for_scalar_variables_is_called_one_vector(cli, cli_json):
    err, hint = _error(cli, "jacobian", "x*y", "--at", "[1,2]")
    assert "bracketed list is one vector value" in err and "(x, y)" in err
    assert "--at 1,2" in hint and "--at x=1 --at y=2" in hint
    assert cli_json("jacobian", "x*y", "--at", "x=1", "--at", "y=2")["jacobian"]["numeric"] \
        == [[2.0, 1.0]]


def test_too_few_values_hint_names_the_real_variables(cli):
    _, hint = _error(cli, "jacobian", "a*b", "--at", "1")
    assert "--at a=1 --at b=1" in hint and "x1" not in hint


# -- requires_grad_() and constructors -----------------------------------------------------------
def test_requires_grad_underscore_after_a_constructor_declares_the_leaf(cli_json):
    d = cli_json("grad", "x = torch.tensor([1.0, 3.0])\nx.requires_grad_()\n"
                 "y = (x**3).sum()\ny.backward()")
    x = torch.tensor([1.0, 3.0], dtype=torch.float64).requires_grad_()
    (x**3).sum().backward()
    assert d["vjp"]["numeric"] == pytest.approx(x.grad.tolist())


def test_chained_requires_grad_underscore_declares_the_leaf(cli_json):
    d = cli_json("grad", "x = torch.tensor([2.0, 3.0]).requires_grad_()\ny = (x*x).sum()")
    assert d["vjp"]["numeric"] == pytest.approx([4.0, 6.0])


def test_requires_grad_underscore_later_is_pytorchs_answer(cli_json):
    """z was computed before x required grad: a constant to autograd, as in PyTorch."""
    d = cli_json("grad", "x = torch.tensor([1.0, 2.0])\nz = x*2\n"
                 "x.requires_grad_()\ny = (x*z).sum()")
    x = torch.tensor([1.0, 2.0])
    z = x * 2
    x.requires_grad_()
    (x * z).sum().backward()
    assert d["vjp"]["grad"]["x"] == x.grad.tolist()


def test_eye_with_requires_grad_is_a_leaf(cli_json):
    d = cli_json("grad", "inp = torch.eye(4, 5, requires_grad=True)\n"
                 "out = (inp**2 + inp).sum()\nout.backward()")
    inp = torch.eye(4, 5, dtype=torch.float64, requires_grad=True)
    (inp**2 + inp).sum().backward()
    assert d["vjp"]["numeric"] == pytest.approx(inp.grad.flatten().tolist())


def test_requires_grad_inside_an_expression_is_an_unnamed_leaf(cli_json):
    """PyTorch makes a leaf there too; it has no name, so jacli calls it leaf1."""
    d = cli_json("grad", "y = (torch.ones(2, requires_grad=True) * 2).sum()")
    assert d["vjp"]["grad"]["leaf1"] == [2.0, 2.0]


# -- known but unsupported PyTorch --------------------------------------------------------------
@pytest.mark.parametrize("line, construct", [
    ("f = torch.fft.fft(x)", "torch.fft is not supported"),
    ("s = torch.svd_lowrank(x)", "torch.svd_lowrank is not supported"),
    ("import scipy", "import of scipy is refused"),
    ("try:\n    z = x\nexcept ValueError:\n    z = x", "'try' is not supported"),
    ("t = x.storage()", "tensor attribute .storage is not supported"),
])
def test_pytorch_beyond_the_language_is_named(cli, line, construct):
    err, hint = _error(cli, "grad", "x = torch.tensor([1.0, 2.0], requires_grad=True)\n" + line
                       + "\ny = x.sum()")
    assert construct in err and "line 2" in err


# -- nothing to differentiate -----------------------------------------------------------------
def test_tensors_without_requires_grad_say_so(cli):
    err, hint = _error(cli, "grad", "w = torch.tensor([1.0, 2.0])\ny = (w**2).sum()")
    assert "no tensor has requires_grad=True" in err
    assert "w = torch.tensor([1.0, 2.0], requires_grad=True)" in hint


def test_an_expression_without_names_keeps_the_names_hint(cli):
    err, hint = _error(cli, "grad", "2 + 3")
    assert "no variables" in err and "names like x" in hint


# -- integer leaves -------------------------------------------------------------------------
@pytest.mark.parametrize("decl, make", [
    ("torch.tensor([1, 2], requires_grad=True)",
     lambda: torch.tensor([1, 2], requires_grad=True)),
    ("torch.tensor(3, requires_grad=True)", lambda: torch.tensor(3, requires_grad=True)),
    ("torch.full((2,), 3, requires_grad=True)",
     lambda: torch.full((2,), 3, requires_grad=True)),
])
def test_integer_leaves_are_refused_as_pytorch_refuses_them(cli, decl, make):
    with pytest.raises(RuntimeError) as torch_says:
        make()
    err, hint = _error(cli, "grad", f"x = {decl}\ny = (x**2).sum()")
    assert str(torch_says.value) in err
    assert "1.0" in hint and "dtype=torch.float" in hint


@pytest.mark.parametrize("decl, make", [
    ("torch.tensor([1, 2.0], requires_grad=True)",
     lambda: torch.tensor([1, 2.0], requires_grad=True)),
    ("torch.tensor([1, 2], requires_grad=True, dtype=torch.float)",
     lambda: torch.tensor([1, 2], requires_grad=True, dtype=torch.float)),
    ("torch.ones(2, requires_grad=True)", lambda: torch.ones(2, requires_grad=True)),
    ("torch.full((2,), 3.0, requires_grad=True)",
     lambda: torch.full((2,), 3.0, requires_grad=True)),
])
def test_float_leaves_are_accepted(cli_json, decl, make):
    x = make()
    (x.double() ** 2).sum().backward()
    d = cli_json("grad", f"x = {decl}\ny = (x**2).sum()")
    assert d["vjp"]["numeric"] == pytest.approx(x.grad.tolist())


# -- labels ------------------------------------------------------------------------------------
def test_an_unnamed_output_never_takes_an_input_name(cli_json):
    d = cli_json("jacobian", "x*y", "--at", "2,3")
    assert d["inputs"] == ["x", "y"]
    assert not set(d["outputs"]) & set(d["inputs"])
    assert d["outputs"] == ["f"]


def test_an_unnamed_output_avoids_every_taken_label(cli_json):
    d = cli_json("jacobian", "x*y + f", "--at", "1,2,3")
    assert d["outputs"] == ["out"]
    d = cli_json("jacobian", "y = x**2\ny + 1", "--at", "2")
    assert d["outputs"] == ["f"]  # y is a tensor of the program, not the output


def test_backward_of_an_expression_is_labelled_by_that_expression(cli_json):
    d = cli_json("vjp", "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x**2\n"
                 "y.sum().backward()")
    assert d["outputs"] == ["y.sum()"]
    assert d["vjp"]["numeric"] == pytest.approx([2.0, 4.0])


@pytest.mark.parametrize("prefix", ["math.", "np.", "torch."])
def test_library_pi_is_pi(cli_json, prefix):
    import math

    d = cli_json("grad", f"{prefix}pi*x", "--at", "1")
    assert d["vjp"]["numeric"] == pytest.approx([math.pi])


def test_an_activation_module_points_at_its_function(cli, cli_json):
    err, hint = _error(cli, "grad", "nn.ReLU()(x)", "--at", "1")
    assert "nn.ReLU(...) is not supported yet" in err and "relu(x)" in hint
    assert cli_json("grad", "relu(x)", "--at", "1")["vjp"]["numeric"] == [1.0]
