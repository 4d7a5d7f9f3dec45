"""Crashes and misleading messages from the fidelity issue: each ends as PyTorch's answer
(computed here with real torch, float64) or one clear line with a documented exit code."""

from __future__ import annotations

import torch


def _hessian(f, x: list[float]) -> list[list[float]]:
    t = torch.tensor(x, dtype=torch.float64)
    return torch.autograd.functional.hessian(f, t).tolist()


def test_hessian_of_abs_away_from_zero_is_pytorchs_zeros(cli_json):
    # vectorised hessian of a gradient independent of x is an expanded zero without storage
    d = cli_json("hessian", "abs(x).sum()", "--at", "x=[1,2]")
    assert d["hessian"]["numeric"] == _hessian(lambda x: x.abs().sum(), [1.0, 2.0])
    assert d["check"]["agree"] is True


def test_hessian_through_detach_is_zero_with_hvp(cli_json):
    d = cli_json("hessian", "detach(x)", "--at", "x=1", "--v", "1")
    assert d["hessian"]["numeric"] == _hessian(lambda x: x.detach().sum(), [1.0])
    assert d["hessian"]["hvp"]["numeric"] == [0.0]


SHAPE_33 = [1] * 32 + [2]
VIEW_33 = "x.view(" + ",".join(map(str, SHAPE_33)) + ")"


def _jacobian(f, x: list[float]) -> list[list[float]]:
    t = torch.tensor(x, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda t: f(t).reshape(-1), t).tolist()


def test_33_dimensions_skip_sympy_with_a_notice_and_give_pytorchs_numbers(cli_json):
    # NumPy's object arrays stop at 32 dimensions, torch does not: numbers stand alone
    for expr, f in [(VIEW_33, lambda t: t.view(*SHAPE_33)),
                    (VIEW_33 + ".sum()", lambda t: t.view(*SHAPE_33).sum())]:
        d = cli_json("jacobian", expr, "--at", "x=[1,2]")
        assert d["jacobian"]["numeric"] == _jacobian(f, [1.0, 2.0])
        assert d["jacobian"]["symbolic"] is None
        assert any("33 dimensions" in n and "stand alone" in n for n in d["notices"]), d["notices"]


def _grad(f, x: float, dtype=torch.float64) -> float:
    t = torch.tensor(x, dtype=dtype, requires_grad=True)
    f(t).backward()
    return t.grad.item()


def test_float32_check_judges_finite_differences_with_float32_tolerances(cli_json):
    # FD is float64; autograd's J in float32 carries ~1e-7 relative round-off: not a bug
    cases = [("exp(x)", "x=0.3", torch.exp, 0.3), ("x**3", "x=10000.1", lambda t: t ** 3, 10000.1),
             ("tanh(x)*x", "x=1.1", lambda t: torch.tanh(t) * t, 1.1),
             ("x**2", "x=10000.1", lambda t: t ** 2, 10000.1)]
    for expr, at, f, x in cases:
        d = cli_json("check", expr, "--at", at, "--dtype", "float32")
        fd = d["check"]["finite_differences"]
        assert fd["agree"] is True and fd["disagreements"] == [], (expr, d["notices"])
        assert d["jacobian"]["numeric"] == [[_grad(f, x, torch.float32)]]
        x32 = float(torch.tensor(x, dtype=torch.float32))  # FD runs at the float32 point
        assert abs(fd["numeric"][0][0] - _grad(f, x32)) <= 1e-6 * (1 + abs(_grad(f, x32)))


NO_GRAD = b"""import torch
x = torch.tensor(3.0, requires_grad=True)
with torch.no_grad():
    s = x * 2
y = s * x
"""


def test_check_through_a_gradient_stop_explains_the_fd_difference(cli, cli_json):
    def no_grad(t):
        with torch.no_grad():
            s = t * 2
        return s * t

    for argv, stdin, f in [(("detach(x)*x", "--at", "x=3"), None, lambda t: t.detach() * t),
                           (("-",), NO_GRAD, no_grad)]:
        d = cli_json("check", *argv, stdin=stdin)
        fd = d["check"]["finite_differences"]
        assert d["jacobian"]["numeric"] == [[_grad(f, 3.0)]]
        assert fd["agree"] is True and fd["explained"] == ["dy/dx"], d["notices"]
        assert d["check"]["all_agree"] is True and d["check"]["agree"] is True
        assert any("autograd sees the gradient stop: expected, not a bug" in n
                   for n in d["notices"]), d["notices"]
    # without a gradient stop a difference is still a disagreement (relu's kink at 0)
    r = cli("check", "relu(x)", "--at", "x=0")
    assert r.code == 1 and "gradient stop" not in r.out


def test_hessian_vector_product_of_abs_is_pytorchs_zeros(cli_json):
    d = cli_json("hessian", "abs(x).sum()", "--at", "x=[1,2]", "--v", "1,1")
    t, v = torch.tensor([1.0, 2.0], dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    want = torch.autograd.functional.hvp(lambda x: x.abs().sum(), t, v)[1].tolist()
    assert d["hessian"]["hvp"]["numeric"] == want
