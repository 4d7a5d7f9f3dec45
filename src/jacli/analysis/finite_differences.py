"""Central finite differences: the third, independent opinion on J (for ``jacli check``).

Always float64, whatever ``--dtype`` says: FD is the reference, not the thing under test.
For input j the step is h_j = ∛ε · max(1, |x_j|) (the step that balances the O(h²)
truncation error of central differences against the O(ε/h) rounding error); past |x_j| = 1
the absolute step ∛ε is tried too: each entry keeps the value with the smaller estimate, and
its error bar covers the other value (where the two disagree, FD cannot tell). Each entry is
the Richardson extrapolation R = (4·D(h/2) − D(h)) / 3, and its error estimate is
|R − D(h/2)| plus the rounding term ε·(|f| + 1)/h — so a disagreement with autograd must
exceed what FD itself can resolve before it counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from jacli.analysis.autograd import flat_function
from jacli.backends.tensors import TorchBackend
from jacli.language import ir

EPS = torch.finfo(torch.float64).eps
# why autograd and FD differ on an entry, as ``check`` words it
FD_KINK = ("at a kink or discontinuity the difference quotient averages both sides; elsewhere "
           "this is a bug")
FD_STOP = ("finite differences see the value through detach/no_grad, autograd sees the gradient "
           "stop: expected, not a bug")


@dataclass
class FD:
    """J estimated by finite differences, each entry with its error estimate (both (m, n))."""

    J: torch.Tensor
    error: torch.Tensor
    steps: list[float]
    stops: bool = False  # the program stops gradients (detach / no_grad): FD cannot see that


def gradient_stop(program: ir.Program) -> bool:
    """Whether the program has a gradient stop: a ``detach`` call (``x.detach()`` parses to
    one) or a statement inside ``with torch.no_grad():``. Autograd's J then leaves out paths
    that finite differences, which differentiate the value, still follow."""
    if any(st.no_grad for st in program.statements):
        return True
    roots = [st.value for st in program.statements] + [program.output]
    return any(isinstance(n, ir.Call) and n.fn == "detach" for r in roots for n in ir.walk(r))


def finite_differences(program: ir.Program, point: dict[str, torch.Tensor],
                       wrt: list[str]) -> FD:
    """Central differences of the flattened output with respect to the flattened ``wrt``."""
    backend = TorchBackend("float64", "cpu")
    point = {k: v.detach().to(torch.float64).cpu() for k, v in point.items()}
    f, x = flat_function(program, backend, point, wrt)
    f0 = f(x).detach()
    cols, errs, steps = [], [], []
    for j in range(x.numel()):
        h = EPS ** (1 / 3) * max(1.0, abs(float(x[j])))
        column, error = _richardson(f, x, j, h, f0)
        if h > EPS ** (1 / 3):
            # |x_j| > 1: the relative step assumes f varies on the scale of x_j, which sin(x)
            # at 1e10 does not (a step of 6e4 spans ten thousand periods, and the estimate
            # cannot see it); the absolute step (a few ulps at least) cannot see rounding
            # inside f (sin(x/1e6) at 1e10). So both, each entry keeping the value whose
            # own estimate is smaller, and an error bar that covers the other: where the two
            # disagree, FD cannot resolve the entry and the bar says so.
            small_h = max(EPS ** (1 / 3), 64 * math.ulp(float(x[j])))
            small, small_error = _richardson(f, x, j, small_h, f0)
            small_error = torch.nan_to_num(small_error, nan=math.inf)
            better = small_error < error
            spread = torch.nan_to_num((small - column).abs(), nan=0.0)
            column = torch.where(better, small, column)
            error = torch.maximum(torch.minimum(small_error, error), spread)
            h = small_h if bool(better.all()) else h
        cols.append(column)
        errs.append(error)
        steps.append(h)
    return FD(torch.stack(cols, dim=1), torch.stack(errs, dim=1), steps, gradient_stop(program))


def _richardson(f, x: torch.Tensor, j: int, h: float, f0: torch.Tensor):
    """R = (4·D(h/2) − D(h))/3 and its error estimate |R − D(h/2)| + ε·(|f| + 1)/h."""
    d1, d2 = _central(f, x, j, h), _central(f, x, j, h / 2)
    richardson = (4 * d2 - d1) / 3
    return richardson, (richardson - d2).abs() + EPS * (f0.abs() + 1) / h


def _central(f, x: torch.Tensor, j: int, h: float) -> torch.Tensor:
    """The central difference over the step x_j ± h as float64 holds it (at x_j = 1e10 a
    step of 6e-6 is 3 ulps: dividing by the rounded span, not by 2h, keeps it exact)."""
    plus, minus = x.clone(), x.clone()
    plus[j] += h
    minus[j] -= h
    with torch.no_grad():
        return (f(plus) - f(minus)) / (plus[j] - minus[j])
