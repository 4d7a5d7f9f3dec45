"""Walk the whole function table: for every row, SymPy's derivative (exact, at the point),
autograd's and central finite differences agree, at seeded random points, in float64.

Tolerances: autograd vs exact uses jacli's own check (|Δ| <= 1e-12 + 1e-9·|exact|);
finite differences (h = 1e-6, central, error O(h²) plus rounding O(eps/h)) must agree with
autograd to |Δ| <= 1e-6 + 1e-6·|J|.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import torch

from jacli.analysis.autograd import forward
from jacli.backends.tensors import TorchBackend
from jacli import Problem, compute
from jacli.backends.functions import ROWS
from jacli.language import parse_program

# One probe program per row: which variables it uses, and their shapes.
PROBES: dict[str, tuple[str, dict[str, tuple[int, ...]]]] = {
    "pow": ("pow(x, y)", {"x": (3,), "y": (3,)}),
    "maximum": ("maximum(x, y)", {"x": (3,), "y": (3,)}),
    "minimum": ("minimum(x, y)", {"x": (3,), "y": (3,)}),
    "detach": ("x * detach(x)", {"x": (3,)}),
    "sum": ("sum(x**2, dim=1) + sum(x)", {"x": (2, 3)}),
    "mean": ("mean(x**3, dim=0, keepdim=True) * mean(x)", {"x": (2, 3)}),
    "prod": ("prod(x, dim=1) + prod(x)", {"x": (2, 3)}),
    "amax": ("amax(x**2, dim=0) + amax(x, 1, keepdim=True) * x.max()", {"x": (2, 3)}),
    "amin": ("amin(x**3, dim=0) * amin(x)", {"x": (2, 3)}),
    "dot": ("dot(x, y)", {"x": (3,), "y": (3,)}),
    "matmul": ("matmul(a, x)", {"a": (2, 3), "x": (3,)}),
    "mm": ("mm(a, b)", {"a": (2, 3), "b": (3, 2)}),
    "mv": ("mv(a, x)", {"a": (2, 3), "x": (3,)}),
    "view": ("sin(view(x, 3, 2)) * c", {"x": (2, 3), "c": (2,)}),
    "reshape": ("exp(x.reshape(-1)) * x.reshape(6)", {"x": (2, 3)}),
    "flatten": ("flatten(x)**2", {"x": (2, 3)}),
    "T": ("x.T @ x", {"x": (2, 3)}),
    "t": ("t(x) * 2", {"x": (2, 3)}),
    "transpose": ("transpose(x, 0, 1)**2", {"x": (2, 3)}),
    "unsqueeze": ("unsqueeze(x, 0) * x", {"x": (3,)}),
    "squeeze": ("squeeze(x)**3", {"x": (1, 3)}),
    "clone": ("clone(x) * x.clone()", {"x": (3,)}),
    "stack": ("stack([x, y**2], dim=1)", {"x": (3,), "y": (3,)}),
    "cat": ("cat([x, y**2])", {"x": (3,), "y": (2,)}),
    "zeros": ("zeros(3) + x**2", {"x": (3,)}),
    "ones": ("ones(2, 3) * x", {"x": (3,)}),
    "eye": ("eye(3) @ x**2", {"x": (3,)}),
    "tensor": ("tensor([1, 2, 3]) * x + tensor(x) * x", {"x": (3,)}),
    "randn": ("b = randn(2); b[0] = x**2; b[1] = sin(x); b", {"x": ()}),
    "rand": ("b = rand(2); b[0] = x; b[1] = x*x; b", {"x": ()}),
    "empty": ("b = empty(2, 2); b[0] = x; b[1, :] = x**2; b", {"x": (2,)}),
    # the wider vocabulary: keywords and dims exercised, not only the defaults
    "clamp": ("clamp(x, -1, 0.5) + x.clamp(min=-0.2) * clip(x, max=0.7)", {"x": (3,)}),
    "atan2": ("atan2(x, y)", {"x": (3,), "y": (3,)}),
    "hypot": ("hypot(x, y)", {"x": (3,), "y": (3,)}),
    "lerp": ("lerp(x, y, w) + torch.lerp(x, y, 0.25)", {"x": (3,), "y": (3,), "w": (3,)}),
    "where": ("torch.where(x > 0, x * y, y - x) + where(x <= y, x, 2)", {"x": (3,), "y": (3,)}),
    "leaky_relu": ("F.leaky_relu(x) + F.leaky_relu(x, 0.2) * leaky_relu(x, negative_slope=3)",
                   {"x": (3,)}),
    "elu": ("F.elu(x) + F.elu(x, alpha=0.5)", {"x": (3,)}),
    "celu": ("F.celu(x, 0.5) + celu(x)", {"x": (3,)}),
    "gelu": ("F.gelu(x) + F.gelu(x, approximate='tanh')", {"x": (3,)}),
    "hardtanh": ("F.hardtanh(x) + F.hardtanh(x, -0.5, min_val=-0.5, max_val=0.5)", {"x": (3,)}),
    "softplus": ("F.softplus(x) + F.softplus(x, beta=2) + softplus(x, 3, 1)", {"x": (3,)}),
    "softmax": ("F.softmax(x, dim=1) + softmax(x, -2) * F.softmax(x)", {"x": (2, 3)}),
    "log_softmax": ("F.log_softmax(x, dim=1) + x.log_softmax(0)", {"x": (2, 3)}),
    "softmin": ("F.softmin(x, 1)", {"x": (2, 3)}),
    "normalize": ("F.normalize(x) + F.normalize(x, p=1, dim=0)", {"x": (2, 3)}),
    "logsumexp": ("torch.logsumexp(x, 1) + x.logsumexp(dim=(0, 1), keepdim=True)", {"x": (2, 3)}),
    "var": ("x.var() + x.var(1, keepdim=True) + x.var(dim=0, unbiased=False).sum()", {"x": (2, 3)}),
    "std": ("x.std(dim=1, correction=0) + torch.std(x)", {"x": (2, 3)}),
    "cumsum": ("x.cumsum(1) * torch.cumsum(x, dim=0)", {"x": (2, 3)}),
    "cumprod": ("x.cumprod(-1) + torch.cumprod(x, dim=0)", {"x": (2, 3)}),
    "norm": ("x.norm() + x.norm(dim=1).sum() + x.norm(p=1, dim=0, keepdim=True)", {"x": (2, 3)}),
    "vector_norm": ("torch.linalg.vector_norm(x, ord=3, dim=1) + torch.linalg.vector_norm(x)",
                    {"x": (2, 3)}),
    "linalg_norm": ("torch.linalg.norm(x) + torch.linalg.norm(x, dim=1)", {"x": (2, 3)}),
    "max_dim": ("torch.max(x, 1).values + x.max(dim=0, keepdim=True)[0].sum()", {"x": (2, 3)}),
    "min_dim": ("torch.min(x, 0).values.sum() + x.min(-1)[0]", {"x": (2, 3)}),
    "outer": ("torch.outer(x, y)", {"x": (3,), "y": (2,)}),
    "einsum": ("torch.einsum('ij,j->i', a, x) + torch.einsum('ij,ij', a, a)",
               {"a": (2, 3), "x": (3,)}),
    "bmm": ("torch.bmm(a, b)", {"a": (2, 2, 3), "b": (2, 3, 2)}),
    "trace": ("torch.trace(a)", {"a": (3, 3)}),
    "diag": ("torch.diag(x).sum(0) + torch.diag(a, 1).sum()", {"x": (3,), "a": (3, 3)}),
    "diagonal": ("a.diagonal() + torch.diagonal(a, offset=-1).sum()", {"a": (3, 3)}),
    "tril": ("torch.tril(a) * a.tril(-1)", {"a": (3, 3)}),
    "triu": ("torch.triu(a, diagonal=1) * a.triu()", {"a": (3, 3)}),
    "det": ("torch.det(a) + torch.linalg.det(a * a)", {"a": (3, 3)}),
    "inverse": ("torch.inverse(a) + torch.linalg.inv(a)", {"a": (2, 2)}),
    "solve": ("torch.linalg.solve(a, x)", {"a": (2, 2), "x": (2,)}),
    "cross": ("torch.cross(x, y) + torch.cross(x, y, dim=0)", {"x": (3,), "y": (3,)}),
    "linalg_cross": ("torch.linalg.cross(a, b)", {"a": (2, 3), "b": (2, 3)}),
    "kron": ("torch.kron(a, b)", {"a": (2, 2), "b": (2, 1)}),
    "permute": ("x.permute(2, 0, 1) * 2 + x.permute((2, 0, 1))", {"x": (1, 2, 3)}),
    "expand": ("x.expand(2, 3) + x.view(3, 1).expand(-1, 3)[0:2, :]", {"x": (3,)}),
    "repeat": ("x.repeat(2, 2) * 2", {"x": (3,)}),
    "flip": ("torch.flip(x, [0]) + x.flip(0, 1)", {"x": (2, 3)}),
    "roll": ("torch.roll(x, 1) + x.roll(shifts=1, dims=1)", {"x": (2, 3)}),
    "narrow": ("x.narrow(1, 1, 2) * torch.narrow(x, 1, 0, 2)", {"x": (2, 3)}),
    "chunk": ("x.chunk(2, dim=1)[0] * torch.chunk(x, 2, 1)[1].sum()", {"x": (2, 3)}),
    "split": ("x.split(2)[1] + torch.split(x, [1, 2])[1].sum()", {"x": (3,)}),
    "unbind": ("x.unbind(1)[2] * torch.unbind(x)[0].sum()", {"x": (2, 3)}),
    "gather": ("torch.gather(x, 1, torch.tensor([[0, 0], [2, 1]])) + x.gather(0, [[1, 0]])",
               {"x": (2, 3)}),
    "index_select": ("torch.index_select(x, 1, torch.tensor([2, 0]))", {"x": (2, 3)}),
    "masked_fill": ("x.masked_fill(x < 0, 0.5) * y.masked_fill(x > y, -1)", {"x": (3,), "y": (3,)}),
    "pad": ("F.pad(x, (1, 2))[:, 1:4] * 2 + F.pad(x, (1, 0, 0, 1), value=2.5)[0:2, 0:3]",
            {"x": (2, 3)}),
    "zeros_like": ("torch.zeros_like(x) + x * x", {"x": (3,)}),
    "ones_like": ("torch.ones_like(x) * x", {"x": (3,)}),
    "full_like": ("torch.full_like(x, 0.5) * x", {"x": (3,)}),
    "randn_like": ("b = torch.randn_like(x); b[0] = x[1]; b[1] = x[0]**2; b", {"x": (2,)}),
    "rand_like": ("b = x.rand_like(); b[:] = x * 2; b", {"x": (2,)}),
    "empty_like": ("b = torch.empty_like(x); b[:] = sin(x); b", {"x": (2,)}),
    "mse_loss": ("F.mse_loss(x, y) + F.mse_loss(x, y, reduction='sum') * F.mse_loss(x, y, "
                 "reduction='none')", {"x": (3,), "y": (3,)}),
    "l1_loss": ("F.l1_loss(x, y) + F.l1_loss(x, y, reduction='none')", {"x": (3,), "y": (3,)}),
    "smooth_l1_loss": ("F.smooth_l1_loss(x, y) + F.smooth_l1_loss(x, y, beta=0.5, "
                       "reduction='none')", {"x": (3,), "y": (3,)}),
    "huber_loss": ("F.huber_loss(x, y, delta=2) + F.huber_loss(x, y, reduction='sum')",
                   {"x": (3,), "y": (3,)}),
    "cross_entropy": ("F.cross_entropy(x, [0, 2]) + F.cross_entropy(x, torch.tensor([1, 2]), "
                      "reduction='sum') + F.cross_entropy(x, p)", {"x": (2, 3), "p": (2, 3)}),
    "nll_loss": ("F.nll_loss(x, [2, 0]) + F.nll_loss(x, [1, 1], reduction='sum')", {"x": (2, 3)}),
    "binary_cross_entropy": ("F.binary_cross_entropy(x, y)", {"x": (3,), "y": (3,)}),
    "binary_cross_entropy_with_logits": ("F.binary_cross_entropy_with_logits(x, y, "
                                         "reduction='none')", {"x": (3,), "y": (3,)}),
    "kl_div": ("F.kl_div(x, y, reduction='batchmean') + F.kl_div(x, y, reduction='sum', "
               "log_target=True)", {"x": (2, 3), "y": (2, 3)}),
    "cosine_similarity": ("F.cosine_similarity(x, y) + F.cosine_similarity(x, y, dim=0).sum()",
                          {"x": (2, 3), "y": (2, 3)}),
}

# Gradient stops are not functions of their input in the mathematical sense: finite
# differences see the value change, autograd sees no derivative. For these rows FD must
# match the same program without the stop, and autograd must differ from FD.
WITHOUT_STOP = {"detach": "x * x", "tensor": "tensor([1, 2, 3]) * x + x * x"}


def probe(row) -> tuple[str, dict[str, tuple[int, ...]]]:
    if row.name in PROBES:
        return PROBES[row.name]
    if row.kind == "elementwise":
        return f"{row.name}(x)", {"x": (3,)}
    raise AssertionError(f"row {row.name!r} has no probe: add one to PROBES")


def random_value(shape, domain, rng):
    if not shape:
        lo, hi = domain
        return Fraction(round(rng.uniform(lo, hi), 6)).limit_denominator(10**6)
    return [random_value(shape[1:], domain, rng) for _ in range(shape[0])]


def text(value) -> str:
    if isinstance(value, list):
        return "[" + ",".join(text(v) for v in value) + "]"
    return f"{value.numerator}/{value.denominator}"


def finite_differences(source: str, point: dict, names: list[str], h: float = 1e-6):
    """Central differences of the program's flattened output, column by column."""
    program = parse_program(source)
    B = TorchBackend("float64")
    base = {k: B.tensor(v) for k, v in point.items()}
    cols = []
    for name in names:
        for k in range(base[name].numel()):
            plus = {n: t.clone() for n, t in base.items()}
            minus = {n: t.clone() for n, t in base.items()}
            plus[name].view(-1)[k] += h
            minus[name].view(-1)[k] -= h
            diff = forward(program, B, plus).reshape(-1) - forward(program, B, minus).reshape(-1)
            cols.append(diff / (2 * h))
    return torch.stack(cols, dim=1)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_row_agrees_three_ways(row):
    rng = random.Random(f"jacli-{row.name}")  # fixed seed per row
    source, shapes = probe(row)
    for _ in range(3):
        point = {name: random_value(shape, row.domain, rng) for name, shape in shapes.items()}
        if row.name in ("maximum", "minimum", "relu", "abs", "l1_loss", "sign"):  # off kinks
            point = {k: _off_kink(v) for k, v in point.items()}
        at = tuple(f"{k}={text(v)}" for k, v in point.items())
        result = compute(Problem(source, "jacobian", at=at))
        assert result.check is not None and result.check.agree, (source, at, result.notices)
        J = torch.tensor(result.jacobian.numeric, dtype=torch.float64)
        names = [v.name for v in result.variables]
        if row.name in WITHOUT_STOP:
            assert not torch.allclose(J, finite_differences(source, point, names), atol=1e-3)
            plain = compute(Problem(WITHOUT_STOP[row.name], "jacobian", at=at))
            J = torch.tensor(plain.jacobian.numeric, dtype=torch.float64)
        fd = finite_differences(WITHOUT_STOP.get(row.name, source), point, names)
        assert torch.allclose(J, fd, rtol=1e-6, atol=1e-6), (source, at, J, fd)


def _off_kink(v):
    if isinstance(v, list):
        return [_off_kink(i) for i in v]
    return v if abs(v) > Fraction(1, 100) else v + Fraction(1, 10)


def test_every_row_is_reachable_by_name():
    from jacli.backends.functions import lookup

    for row in ROWS:
        assert lookup(row.name) is row


def test_a_row_whose_meanings_differ_is_caught(monkeypatch):
    """The check is not vacuous: break one row's torch meaning and jacli must disagree."""
    from dataclasses import replace

    from jacli.backends import functions

    broken = replace(functions.TABLE["sin"], torch=lambda B, x: torch.cos(x))
    monkeypatch.setitem(functions.TABLE, "sin", broken)
    result = compute(Problem("sin(x)", "jacobian", at=("x=0.5",)))
    assert result.check.agree is False
    assert any("dy/dx" in d for d in result.check.disagreements)


def test_every_signature_has_both_meanings_and_nothing_else():
    """The parser's table (language) and the meanings (backends) name the same functions."""
    from jacli.backends.functions import MEANINGS
    from jacli.language.signatures import ALIASES, TABLE

    assert set(MEANINGS) == set(TABLE)
    assert set(ALIASES.values()) <= set(TABLE) and not set(ALIASES) & set(TABLE)
