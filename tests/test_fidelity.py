"""Fidelity: whatever the language accepts gives PyTorch's answer, or is refused clearly.

Each case computes PyTorch's own answer here (float64, real torch code) and compares
jacli's JSON with it, or asserts a refusal (exit 2) whose message names the construct.
These are the forms once silently computed as something else: ``max(a, 0)`` as
``maximum(a, 0)``, ``.mT`` as ``.T``, and a subscript write into an alias or view.
"""

from __future__ import annotations

import pytest
import torch

AT = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def torch_jacobian(f, at):
    """PyTorch's value and Jacobian of ``f`` at ``at`` (flattened, float64)."""
    x = torch.tensor(at, dtype=torch.float64)
    value = f(x).detach().reshape(-1)
    jac = torch.autograd.functional.jacobian(f, x).reshape(value.numel(), -1)
    return value.tolist(), jac.tolist()


def jacli_jacobian(cli_json, program, at):
    d = cli_json("jacobian", program, "--at", f"x={at}")
    return d["value"]["numeric"], d["jacobian"]["numeric"], d["output_shape"]


def assert_same(cli_json, program, f, at=AT):
    value, jac, shape = jacli_jacobian(cli_json, program, at)
    t_value, t_jac = torch_jacobian(f, at)
    assert shape == list(f(torch.tensor(at, dtype=torch.float64)).shape)
    assert value == pytest.approx(t_value, rel=1e-12, abs=1e-12)
    assert jac == [pytest.approx(row, rel=1e-12, abs=1e-12) for row in t_jac]


def assert_refused(cli, program, *words, at="x=[1,2,3,4,5,6]"):
    r = cli("jacobian", program, "--at", at)
    assert r.code == 2, (r.code, r.out, r.err)
    for word in words:
        assert word in r.err, r.err
    assert "Traceback" not in r.err


# -- .mT / .mH / .T / .H ---------------------------------------------------------------

@pytest.mark.parametrize("program, f", [
    ("x.view(1, 2, 3).mT", lambda x: x.view(1, 2, 3).mT),
    ("x.view(1, 2, 3).mH", lambda x: x.view(1, 2, 3).mH),
    ("x.view(1, 3, 2).mT * x.view(1, 2, 3)", lambda x: x.view(1, 3, 2).mT * x.view(1, 2, 3)),
    ("x.view(1, 2, 3).T", lambda x: x.view(1, 2, 3).permute(2, 1, 0)),
    ("x.view(2, 3).H", lambda x: x.view(2, 3).H),
    ("x.view(2, 3).mT", lambda x: x.view(2, 3).mT),
])
def test_transposes_match_torch(cli_json, program, f):
    assert_same(cli_json, program, f)


# -- max / min -------------------------------------------------------------------------

@pytest.mark.parametrize("program, f, at", [
    # ties: torch.max(a) splits the gradient evenly among the tied elements
    ("x.max()", lambda x: x.max(), [1.0, 3.0, 3.0, 2.0]),
    ("torch.max(x)", lambda x: torch.max(x), [1.0, 3.0, 3.0, 2.0]),
    ("max(x * x)", lambda x: torch.max(x * x), [-3.0, 3.0, 1.0, 2.0]),
    ("x.min()", lambda x: x.min(), [2.0, 1.0, 1.0, 1.0]),
    ("torch.min(x)", lambda x: torch.min(x), [4.0, 1.0, 3.0, 2.0]),
    ("torch.max(x, 2 * x - 3)", lambda x: torch.max(x, 2 * x - 3), [1.0, 3.0, 5.0, 2.0]),
    ("torch.min(x, 2 * x - 3)", lambda x: torch.min(x, 2 * x - 3), [1.0, 3.0, 5.0, 2.0]),
    ("x.max(2 * x - 3)", lambda x: x.max(2 * x - 3), [1.0, 3.0, 5.0, 2.0]),
])
def test_max_min_match_torch(cli_json, program, f, at):
    assert_same(cli_json, program, f, at)


@pytest.mark.parametrize("program", [
    "torch.max(x, 0)", "x.max(0)", "torch.min(x, 0)", "x.max(dim=0)",
    "torch.max(x.view(2, 3), 1)", "x.min(-1)", "torch.max(x, dim=0, keepdim=True)",
])
def test_max_with_a_dim_is_refused(cli, program):
    """torch.max(a, dim) returns (values, indices): never computed as maximum(a, 0)."""
    name = "min" if "min" in program else "max"
    assert_refused(cli, program, f"{name}(", "(values, indices)", f"a{name}(")


# -- subscript writes into aliases and views ----------------------------------------------

def as_function(program: str):
    """The test's own PyTorch for a jacli program: its lines as the body of ``f(x)``, the
    last one returned (trusted test code, compiled here; jacli never runs text)."""
    *body, last = program.splitlines()
    source = "def f(x):\n" + "".join(f"    {line}\n" for line in body) + f"    return {last}\n"
    scope = {"torch": torch}
    exec(compile(source, "<test>", "exec"), scope)
    return scope["f"]


ALIAS_WRITES = [
    "a = x * 1\nb = a\nb[0] = 5\na",
    "a = x * 1\nr = a[0:2]\nr[1] = 5\na",
    "a = x.view(2, 3) * 1\nr = a[0]\nr[1] = 5\na",
    "a = x * 1\nv = a.view(2, 3)\nv[0, 0] = 5\na",
    "a = x.view(2, 3) * 1\nt = a.T\nt[0, 0] = 5\na",
    # the other direction: a write into a changes its view r too
    "a = x * 1\nr = a[0:2]\na[0] = 5\nr",
    # through a chain of views
    "a = x * 1\nb = a.view(2, 3)\nc = b[0]\nc[0] = 5\na",
    # b += 1 is in place in PyTorch: with b = a it changes a too
    "a = x * 1\nb = a\nb += 1\na",
]


@pytest.mark.parametrize("program", ALIAS_WRITES)
def test_a_write_into_an_alias_changes_the_base_as_in_pytorch(cli_json, program):
    """b is a, r is a view of a: PyTorch changes both, and so does jacli (a script run on
    PyTorch's real tensors), value and J."""
    assert_same(cli_json, program, as_function(program))


def test_write_into_a_copy_is_fine(cli_json):
    """With .clone() the write changes only the copy, in jacli as in PyTorch."""
    def f(x):
        a = x * 1
        b = a.clone()
        b[0] = 5
        return a + b

    assert_same(cli_json, "a = x * 1\nb = a.clone()\nb[0] = 5\na + b", f)


def test_write_after_rebinding_is_fine(cli_json):
    """``b = a`` then ``b = b * 2`` makes b a new tensor: writing it leaves a alone."""
    def f(x):
        a = x * 1
        b = a
        b = b * 2
        b[0] = 5
        return a + b

    assert_same(cli_json, "a = x * 1\nb = a\nb = b * 2\nb[0] = 5\na + b", f)


def test_a_new_tensor_never_shares_memory_with_an_old_name(cli_json):
    """Rebinding names many times keeps each new tensor apart from the others."""
    def f(x):
        a = x * 1
        b = a * 2
        a = a * 3
        c = x * 4
        c[0] = 5
        return a + b + c

    assert_same(cli_json, "a = x * 1\nb = a * 2\na = a * 3\nc = x * 4\nc[0] = 5\na + b + c", f)


def test_a_three_way_tie_splits_in_thirds_and_says_so(cli_json):
    """torch.max(a) gives each of three tied elements 1/3 (SymPy's Max would give 1/2)."""
    at = [3.0, 3.0, 1.0, 3.0]
    x = torch.tensor(at, dtype=torch.float64, requires_grad=True)
    torch.max(x).backward()
    d = cli_json("grad", "x.max()", "--at", f"x={at}")
    assert d["jacobian"]["numeric"] == [pytest.approx(x.grad.tolist(), rel=1e-12)]
    assert any("amax tie: 3 elements" in n and "1/3" in n for n in d["notices"]), d["notices"]
