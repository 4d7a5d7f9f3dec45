"""Pasted PyTorch: the seeds' own code, unchanged, on stdin, gives the seeds' answers.

The files in tests/snippets/ are verbatim copies of the seeds' code cells (shared/seeds/),
notebook cells of one example joined in order.
"""

from __future__ import annotations

from pathlib import Path

import json

import pytest
import torch

SNIPPETS = Path(__file__).parent / "snippets"

EXPECTED = {
    "s1_seed000.py": {"a": [1.5, 1.5]},  # Variable(torch.Tensor(...)), out.backward()
    "s4_seed000.py": {"a": [[12.0, 194.0]]},  # torch.FloatTensor v, comment in Chinese
    "s6_seed000.py": {"a": [[0.0, 0.0], [0.0, 0.0]], "w": [[3.0], [5.0]]},  # mm, retain_graph
    "s7_seed001.py": {"x": [[4.5, 4.5], [4.5, 4.5]]},  # torch.ones(..., requires_grad=True)
    "s9_seed001.py": {"x": [2.0, 0.2, 0.02, 0.002]},  # dtype=torch.float, v assigned first
    "s11_seed001.py": {"x": 2.0},  # with torch.no_grad():
    "s13_seed001.py": {"x1": 5.0, "x2": 18.0, "x3": 34.0},  # randn(3) fully overwritten
    "s14_seed002.py": {"x": [2.0, 4.0, 6.0]},  # torch.sum
    "s15_seed002.py": {"x1": 1.1, "x2": 1.4, "x3": 1.0},  # seed 002's second example
}


def _flat(x):
    return [y for i in x for y in _flat(i)] if isinstance(x, list) else [x]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_snippet_pasted_unchanged(cli_json, name):
    d = cli_json("vjp", "-", stdin=(SNIPPETS / name).read_bytes())
    grads = d["vjp"]["grad"]
    assert sorted(grads) == sorted(EXPECTED[name])
    for var, expected in EXPECTED[name].items():  # .grad is PyTorch's: float32 here
        assert _flat(grads[var]) == pytest.approx(_flat(expected), rel=1e-7), var
    assert d["check"]["agree"] is True


def test_seed_002_random_tensor_is_fully_overwritten_so_it_is_accepted(cli_json):
    d = cli_json("vjp", "-", stdin=(SNIPPETS / "s15_seed002.py").read_bytes())
    assert d["vjp"]["exact"] == ["11/10", "7/5", "1"]
    assert d["vjp"]["v_source"] == "y.backward(v) in the program"


def test_reading_an_unwritten_random_element_is_refused(cli):
    r = cli("vjp", "y = torch.randn(3)\ny[0] = x**2\ny.backward(torch.ones(3))", "--at", "x=1")
    assert r.code == 2
    assert "y[1] reads an element of a torch.randn" in r.err


def test_random_leaf_is_drawn_as_pytorch_draws_it_or_given(cli):
    """A random leaf is drawn by torch's generator (seed 0 by default, said in a note), or
    given with --at."""
    src = "x = torch.randn(3, requires_grad=True)\n(x**2).sum().backward()"
    r = cli("grad", src, "--json")
    torch.manual_seed(0)
    drawn = torch.randn(3)
    assert r.code == 0 and json.loads(r.out)["vjp"]["grad"]["x"] == pytest.approx(
        (2 * drawn).tolist(), rel=1e-6)
    assert "seed 0" in r.out
    r = cli("grad", src, "--json", "--at", "x=[1,2,3]")
    assert r.code == 0 and '"x": [\n        2.0,' in r.out


def test_at_overrides_a_declared_value(cli_json):
    src = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = (x**2).sum()\ny.backward()"
    assert cli_json("vjp", src)["vjp"]["grad"]["x"] == [2.0, 4.0]
    assert cli_json("vjp", src, "--at", "x=[3,4]")["vjp"]["grad"]["x"] == [6.0, 8.0]


def test_backward_forms(cli_json):
    base = "x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x**3\n"
    for call in ("y.backward(torch.ones(2))", "torch.autograd.backward(y, torch.ones(2))",
                 "y.backward(gradient=torch.ones(2), retain_graph=True)"):
        assert cli_json("vjp", base + call)["vjp"]["grad"]["x"] == [3.0, 12.0], call


def test_output_intermediate_like_seed_001(cli_json):
    """Seed 001: t.backward(z) after l = t.dot(z): --output t, v = z."""
    src = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
           "z = torch.tensor([3.0, 4.0], requires_grad=True)\n"
           "t = x + 1\nl = t.dot(z)\nt.backward(z)")
    d = cli_json("vjp", src)
    assert d["vjp"]["grad"]["x"] == [3.0, 4.0]
    assert d["vjp"]["grad"]["z"] == [0.0, 0.0] and d["vjp"]["grad_none"] == ["z"]


def test_table_names_output_v_and_grads(cli):
    r = cli("vjp", "-", stdin=(SNIPPETS / "s6_seed000.py").read_bytes())
    assert r.code == 0
    assert "v = [[1], [1]] from out.backward(v) in the program" in r.out
    assert "w.grad = tensor([[3.]," in r.out
    r = cli("jacobian", "-", stdin=(SNIPPETS / "s6_seed000.py").read_bytes())
    assert "pasted PyTorch: 4 line(s) ignored" in r.out  # (vjp runs it as PyTorch does)


@pytest.mark.parametrize("src, needle", [
    ("def f(x):\n    return x", "no gradient event and no output"),
    ("y = x**2\ny.backward()\ny.backward()", "backward through the graph a second time"),
    ("y = x**2\nx.grad.zero_()", "x.grad is None here"),
    ("import copy\ny = copy.deepcopy(x)", "import of copy is refused"),
    ("import os\nx", "import of os is refused"),
    ("try:\n    y = x\nexcept:\n    y = 0", "'try' is not supported"),
])
def test_unsupported_statements_name_the_line(cli, src, needle):
    r = cli("jacobian", src, "--at", "x=1")
    assert r.code == 2
    assert needle in r.err and ("line" in r.err or "hint" in r.err)
    assert "Traceback" not in r.err


@pytest.mark.parametrize("src, value, derivative", [
    ("y = x\nfor i in range(3):\n    y = y * x", 16.0, 32.0),
    ("if x > 1:\n    y = x ** 2\nelse:\n    y = -x", 4.0, 4.0),
    ("def f(t, k=3):\n    return t ** k\ny = f(x)", 8.0, 12.0),
    ("x.data *= 100\ny = 2*x", 400.0, 2.0),
])
def test_scripts_with_free_variables_run_at_the_point(cli_json, src, value, derivative):
    """Loops, branches and functions over a variable given by --at: the path the value takes."""
    d = cli_json("jacobian", src, "--at", "x=2")
    assert d["value"]["numeric"] == [value]
    assert d["jacobian"]["numeric"] == [[derivative]]


def test_methods_and_namespaces(cli_json):
    d = cli_json("jacobian", "F.relu(x).sum(dim=0, keepdim=True) + torch.nn.functional.softplus("
                 "x).mean(0) + x.pow(2).exp().T.flatten().reshape(-1).sum()",
                 "--at", "x=[0.5,-0.5]")
    assert d["check"]["agree"] is True
    d = cli_json("jacobian", "torch.stack([x, x**2]).sum(0) + torch.cat([x, x])[:2]",
                 "--at", "x=[1,2]")
    assert d["jacobian"]["numeric"] == [[4.0, 0.0], [0.0, 6.0]]


def test_unknown_method_lists_closest_names(cli):
    r = cli("jacobian", "x.summ()", "--at", "x=1")
    assert r.code == 2 and "did you mean 'sum'" in r.err
