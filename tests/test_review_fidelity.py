"""What a review found jacli answering differently from PyTorch, or not at all, each checked
against PyTorch's own run of the same code (the oracle), through the CLI."""

from __future__ import annotations

import contextlib
import io
import math

import pytest
import torch

AF = torch.autograd.functional


def _run_pytorch(source: str) -> dict:
    """The snippet run by PyTorch itself (trusted test code): its globals afterwards."""
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # its print()s are not jacli's output
        exec(compile(source, "<snippet>", "exec"), scope)  # noqa: S102 — the test's own text
    return scope


def _same(got, want: torch.Tensor) -> bool:
    """Equal as PyTorch's float32 prints them, NaN matching NaN."""
    want = want.detach().reshape(-1).tolist()
    got = [float(x) for x in (got if isinstance(got, list) else [got])]
    return len(got) == len(want) and all(
        (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want))


FLOAT32_SNIPPETS = {
    # float32's exp(100) overflows: PyTorch's x.grad is [nan, 0]; float64's would be [1, 4e-44]
    "log-sum-exp": "import torch\nx = torch.tensor([100.0, 0.0], requires_grad=True)\n"
                   "y = torch.log(torch.exp(x).sum())\ny.backward()\nprint(x.grad)\n",
    # float32 cancels (x + 1 - x) at 1e8 to 0: PyTorch's x.grad is [0, 1]
    "cancellation": "import torch\nx = torch.tensor([1e8, 3.0], requires_grad=True)\n"
                    "y = ((x + 1 - x) * x).sum()\ny.backward()\nprint(x.grad)\n",
}


@pytest.mark.parametrize("name", sorted(FLOAT32_SNIPPETS))
def test_a_pasted_snippet_shows_the_grad_pytorch_computes_in_its_own_dtype(name, cli_json):
    source = FLOAT32_SNIPPETS[name]
    want = _run_pytorch(source)["x"].grad
    d = cli_json("vjp", "-", stdin=source.encode())
    assert _same(d["vjp"]["grad"]["x"], want), (d["vjp"]["grad"], want)
    assert d["grad_at_end"]["x"] is not None
    if name == "log-sum-exp":
        assert any(".grad shows PyTorch's numbers" in n for n in d["notices"])


@pytest.mark.parametrize("source, error", [
    ("x = torch.tensor([[1.0, 2.0]], requires_grad=True)\ny = x * 2\n"
     "y.backward(torch.tensor([1.0, 2.0]))\n", "Mismatch in shape"),
    ("x = torch.tensor([1.0, 2.0], requires_grad=True)\ny = x.clone()\ny[0] = y[0] * x[1]\n"
     "y.sum().backward()\n", "modified by an inplace operation"),
])
def test_a_pasted_snippet_pytorch_refuses_is_refused_with_its_error(source, error, cli):
    source = "import torch\n" + source
    with pytest.raises(RuntimeError, match=error):
        _run_pytorch(source)
    r = cli("vjp", "-", stdin=source.encode())
    assert r.code != 0 and error in r.err and "Traceback" not in r.err, r.err


@pytest.mark.parametrize("expr, at", [("x**y", [-2.0, 2.0]), ("atan2(y, x)", [0.0, 0.0]),
                                      ("x**y + y**x", [-2.0, 3.0])])
def test_the_jacobian_is_reverse_modes_where_forward_mode_meets_nan(expr, at, cli_json):
    """The auto rule may pick forward mode for speed; where its J holds a NaN that reverse
    mode does not (0·∞ in pow's log term), J is AF.jacobian's default, reverse mode."""
    x, y = (torch.tensor(v, dtype=torch.float64) for v in at)
    fns = {"x**y": lambda x, y: x ** y, "atan2(y, x)": lambda x, y: torch.atan2(y, x),
           "x**y + y**x": lambda x, y: x ** y + y ** x}
    want = torch.cat([j.reshape(-1) for j in AF.jacobian(fns[expr], (x, y))])
    d = cli_json("jacobian", expr, "--at", f"x={at[0]},y={at[1]}", "--vars", "x,y",
                 "--symbolic", "never")
    assert _same(d["jacobian"]["numeric"][0], want), (d["jacobian"]["numeric"], want)


def test_the_rule_leaves_a_finite_forward_mode_jacobian_alone(cli_json):
    d = cli_json("jacobian", "x1*x2, x1+x2", "--at", "1,2")
    assert d["strategy"].startswith("forward mode") and "NaN" not in d["strategy"]


TRANSFORMS = {
    "jacrev argnums=1": "from torch.func import jacrev\ng = jacrev(loss, argnums=1)(w, x)\n",
    "grad of two arguments": "g = torch.func.grad(loss)(w, x)\n",
    "grad inside print": "from torch.func import grad\nprint(grad(loss)(w, x))\ng = None\n",
    "vjp's pullback": "out, fn = torch.func.vjp(lambda w, x: torch.tanh(w @ x), w, x)\n"
                      "g = fn(torch.tensor([1.0, 2.0]))\n",
}
HEAD = ("import torch\ndef loss(w, x):\n    return torch.tanh(w @ x).sum()\n"
        "w = torch.tensor([[1.0, 2.0], [0.5, -1.0]])\nx = torch.tensor([0.3, -0.2])\n")


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_torch_func_calls_are_events_with_pytorchs_numbers(name, cli_json):
    source = HEAD + TRANSFORMS[name]
    scope = _run_pytorch(source)
    w, x = scope["w"], scope["x"]
    want = {"jacrev argnums=1": lambda: torch.func.jacrev(scope["loss"], argnums=1)(w, x),
            "grad of two arguments": lambda: torch.func.grad(scope["loss"])(w, x),
            "grad inside print": lambda: torch.func.grad(scope["loss"])(w, x),
            "vjp's pullback": lambda: torch.cat([g.reshape(-1) for g in scope["g"]])}[name]()
    d = cli_json("vjp", "-", stdin=source.encode())
    assert d["events"] and d["events"][-1]["kind"].startswith("func."), d["events"]
    got = d["vjp"]["numeric"] if "vjp" in d else d["jacobian"]["numeric"][0]  # (jacrev: J)
    assert torch.allclose(torch.tensor(got, dtype=torch.float64), want.reshape(-1).double(),
                          rtol=1e-6, atol=1e-7), (got, want)
    if "vjp" in d:
        assert d["vjp"]["grad"] is None  # a transform returns its answer; .grad stays None
        assert any(".grad is untouched" in n for n in d["notices"]), d["notices"]


def test_zero_derivatives_from_numbers_alone_are_said_at_this_point(cli_json):
    d = cli_json("jacobian", "x**2", "--at", "0", "--symbolic", "never")
    assert not any("depend" in n for n in d["notices"]) and any(
        "is 0 at this point" in n for n in d["notices"]), d["notices"]


def test_bare_linalg_is_torch_linalg(cli_json):
    x = torch.tensor([3.0, 4.0], dtype=torch.float64)
    want = torch.func.jacrev(torch.linalg.norm)(x)
    d = cli_json("jacobian", "linalg.norm(x)", "--at", "x=[3,4]")
    assert d["jacobian"]["numeric"][0] == want.tolist() and d["check"]["agree"]


def test_latex_and_markdown_keep_a_pasted_script_out_of_the_markup(cli):
    source = b"import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n" \
             b"y = (x ** 2).sum()  # 50% of \\alpha\ny.backward()\n"
    tex = cli("vjp", "-", "--format", "latex", stdin=source).out
    head = tex.split("% variables")[0].splitlines()
    assert len(head) == 4 and all(line.startswith("%") for line in head), tex
    md = cli("vjp", "-", "--format", "markdown", stdin=source).out
    assert "```python\nimport torch\n" in md and "y.backward()\n```" in md


def test_an_exact_value_too_long_to_print_has_one_approximately_sign(cli):
    r = cli("jacobian", "2**x", "--at", "100000")
    assert "≈ ≈" not in r.out and "≈9.99" in r.out


def test_finite_differences_at_a_large_point_take_the_step_they_can_trust(cli_json):
    """sin(x) at 1e10: a step relative to x spans thousands of periods; the absolute step's
    estimate is the smaller, and FD agrees with autograd (and cos(1e10))."""
    d = cli_json("check", "sin(x)", "--at", "x=1e10")
    fd = d["check"]["finite_differences"]
    assert fd["agree"] is True and d["check"]["all_agree"] is True
    assert d["jacobian"]["numeric"] == [[math.cos(1e10)]]
    # smooth at their own scale, rounding inside f, or past where ∛ε is below an ulp
    for expr, at in [("x**3", "1e10"), ("sin(x/1e6)", "1e10"), ("sin(x/1e3)", "1e8"),
                     ("sin(x)", "1e12"), ("x**2+sin(x)", "1e6")]:
        d = cli_json("check", expr, "--at", f"x={at}")
        assert d["check"]["all_agree"] is True, (expr, at, d["notices"])


@pytest.mark.parametrize("argv, message", [
    (["vjp", "x1*x2, x1+x2", "--at", "1,2", "--v", "[[1,2]]"], "v has shape (1, 2)"),
    (["jacobian", "x", "--at", "1", "--event", "2"], "a straight-line program has one"),
    (["jacobian", "W @ x"], "variables without --at are scalars"),
    (["vjp", "x1*x2, x1+x2", "--at", "1,2", "--v", "nan,1"], "a direction must be finite"),
])
def test_what_pytorch_or_jacli_refuses_is_said_plainly(argv, message, cli):
    r = cli(*argv)
    assert r.code == 2 and message in r.err and "Traceback" not in r.err, r.err


def test_the_grad_of_a_tensor_that_is_not_a_leaf_is_said_to_be_none(cli_json):
    source = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True) * 2\n"
              "y = (x ** 2).sum()\ny.backward()\nprint(x.grad)\n")
    with pytest.warns(UserWarning, match="not a leaf"):
        assert _run_pytorch(source)["x"].grad is None
    d = cli_json("vjp", "-", stdin=source.encode())
    assert any("x is not a leaf" in n for n in d["notices"]), d["notices"]
    kept = source.replace("y = (", "x.retain_grad()\ny = (")  # retain_grad: .grad is kept
    assert not any("not a leaf" in n for n in cli_json("vjp", "-", stdin=kept.encode())["notices"])


def test_a_replay_that_differs_from_pytorchs_run_is_said_entry_by_entry(cli_json):
    """float32 loses x[1]'s (x[1] + 1e8) - 1e8 where the replay keeps it: one entry of
    many differs, and an infinity is never close to a finite number."""
    for source in ["x = torch.tensor([1e8, 3.0], requires_grad=True)\n"
                   "y = x[0]**2/2 + ((x[1] + 1e8) - 1e8)*x[1]\ny.backward()\n",
                   "x = torch.tensor([50.0, 1.0], requires_grad=True)\n"
                   "y = torch.exp(x)**2/torch.exp(x)\ny.backward(torch.tensor([1.0, 1.0]))\n"]:
        source = "import torch\n" + source
        want = _run_pytorch(source)["x"].grad
        d = cli_json("vjp", "-", stdin=source.encode())
        assert _same(d["vjp"]["grad"]["x"], want)
        assert any("differs from what PyTorch's run computed" in n for n in d["notices"])


def test_print_of_a_float64_grad_shows_its_dtype_as_pytorch_prints_it(cli):
    source = ("import torch\nx = torch.tensor([0.1, 0.2], dtype=torch.float64, "
              "requires_grad=True)\ny = (x ** 3).sum()\ny.backward()\n")
    want = repr(_run_pytorch("import torch\n" + source.split("\n", 1)[1])["x"].grad)
    assert "dtype=torch.float64" in want and want in cli("vjp", "-", stdin=source.encode()).out
