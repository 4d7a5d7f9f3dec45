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
