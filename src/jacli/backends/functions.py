"""Each function's two meanings: SymPy (``sym``, on object arrays) and torch (``torch``).

One ``Meaning`` per ``language.signatures.Signature``; ``Row`` is the two side by side, as
the interpreter and the table test read them. Both meanings take the backend ``B`` first
(for constants, dtype, device), then the tensor operands, then the static parameters by
name. ``torch`` is a callable, or, for an elementwise row, the name of the torch function
that is its whole meaning (``"sin"``: ``torch.sin``), which lowering then calls directly
(``TorchBackend.function``). A test walks every row and checks that the two meanings agree
in value and derivative, and with central finite differences. ``domain`` is where that test
samples points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


from jacli.backends.lazy import Later, torch, sympy as sp
from jacli.backends.lazy import object_arrays as oa, piecewise as pw, sym_extra as sx
from jacli.language.signatures import ALIASES, SIGNATURES, Signature, shape_arg


@dataclass(frozen=True)
class Meaning:
    sym: Callable
    torch: Callable | str
    domain: tuple[float, float] = (-2.0, 2.0)


def _ew(sym_f: Callable | str, torch_name: str, domain=(-2.0, 2.0)) -> Meaning:
    """An elementwise meaning: SymPy's scalar function (a name: ``sympy.<name>``) lifted to
    arrays, ``torch.<name>``. Built on first use: the table is read without SymPy."""
    scalar = (lambda: getattr(sp, sym_f)) if isinstance(sym_f, str) else (lambda: sym_f)
    return Meaning(Later(lambda: oa.elementwise(scalar())), torch_name, domain)


def _torch_reduce(name: str):
    def run(B, x, dim=None, keepdim=False):
        f = getattr(x, name)
        return f() if dim is None else f(dim=dim, keepdim=keepdim)

    return run


MEANINGS: dict[str, Meaning] = {
    "sin": _ew("sin", "sin"),
    "cos": _ew("cos", "cos"),
    "tan": _ew("tan", "tan", (-1.2, 1.2)),
    "asin": _ew("asin", "asin", (-0.9, 0.9)),
    "acos": _ew("acos", "acos", (-0.9, 0.9)),
    "atan": _ew("atan", "atan"),
    "sinh": _ew("sinh", "sinh"),
    "cosh": _ew("cosh", "cosh"),
    "tanh": _ew("tanh", "tanh"),
    "asinh": _ew("asinh", "asinh"),
    "acosh": _ew("acosh", "acosh", (1.1, 3.0)),
    "atanh": _ew("atanh", "atanh", (-0.9, 0.9)),
    "exp": _ew("exp", "exp"),
    "log": _ew("log", "log", (0.1, 3.0)),
    "log2": _ew(lambda x: sp.log(x, 2), "log2", (0.1, 3.0)),
    "log10": _ew(lambda x: sp.log(x, 10), "log10", (0.1, 3.0)),
    "sqrt": _ew("sqrt", "sqrt", (0.1, 3.0)),
    "abs": _ew(lambda x: pw.abs(x), "abs"),
    "square": _ew(lambda x: x**2, "square"),
    "sigmoid": _ew(lambda x: 1 / (1 + sp.exp(-x)), "sigmoid"),
    "relu": _ew(lambda x: oa.relu(x), "relu"),
    "pow": Meaning(Later(lambda: oa.binary_elementwise(lambda x, p: x**p)), lambda B, x, p: torch.pow(x, p), domain=(0.5, 2.0)),
    "maximum": Meaning(Later(lambda: oa.binary_elementwise(pw.maximum)), lambda B, x, y: torch.maximum(x, y)),
    "minimum": Meaning(Later(lambda: oa.binary_elementwise(pw.minimum)), lambda B, x, y: torch.minimum(x, y)),
    "detach": Meaning(Later(lambda: oa.elementwise(oa.detach)), lambda B, x: x.detach()),
    "sum": Meaning(lambda B, a, dim=None, keepdim=False: sx.reduce_dims(lambda v: sp.Add(*v), a, dim, keepdim), _torch_reduce("sum")),
    "mean": Meaning(lambda B, a, dim=None, keepdim=False: sx.reduce_dims(lambda v: sp.Add(*v) / len(v), a, dim, keepdim), _torch_reduce("mean")),
    "prod": Meaning(lambda B, a, dim=None, keepdim=False: sx.reduce_dims(lambda v: sp.Mul(*v), a, dim, keepdim), _torch_reduce("prod")),
    "norm": Meaning(lambda B, a, p="fro", dim=None, keepdim=False: mt.norm(B, a, p, dim, keepdim), lambda B, x, p="fro", dim=None, keepdim=False: torch.norm(x, mp.fl(p), dim, keepdim), domain=(0.5, 2.0)),
    "amax": Meaning(lambda B, a, dim=None, keepdim=False: oa.reduce_along(oa.amax, a, dim, keepdim), _torch_reduce("amax")),
    "amin": Meaning(lambda B, a, dim=None, keepdim=False: oa.reduce_along(oa.amin, a, dim, keepdim), _torch_reduce("amin")),
    "dot": Meaning(lambda B, a, b: oa.dot(a, b), lambda B, a, b: torch.dot(a, b)),
    "matmul": Meaning(lambda B, a, b: oa.matmul(a, b), lambda B, a, b: torch.matmul(a, b)),
    "mm": Meaning(lambda B, a, b: oa.mm(a, b), lambda B, a, b: torch.mm(a, b)),
    "mv": Meaning(lambda B, a, b: oa.mv(a, b), lambda B, a, b: torch.mv(a, b)),
    "view": Meaning(lambda B, a, *shape: oa.reshape(a, *shape), lambda B, x, *shape: x.view(shape_arg(shape))),
    "reshape": Meaning(lambda B, a, *shape: oa.reshape(a, *shape), lambda B, x, *shape: x.reshape(shape_arg(shape))),
    "flatten": Meaning(lambda B, a, start_dim=0, end_dim=-1: sx.flatten(a, start_dim, end_dim), lambda B, x, start_dim=0, end_dim=-1: x.flatten(start_dim, end_dim)),
    "T": Meaning(lambda B, a: oa.obj(a.T), lambda B, x: x.T if x.ndim == 2 else x.permute(
                *reversed(range(x.ndim)))),
    "t": Meaning(lambda B, a: oa.obj(a.T), lambda B, x: x.t()),
    "transpose": Meaning(lambda B, a, dim0, dim1: oa.transpose(a, dim0, dim1), lambda B, x, dim0, dim1: x.transpose(dim0, dim1)),
    "clone": Meaning(lambda B, a: oa.obj(a.copy()), lambda B, x: x.clone()),
    "unsqueeze": Meaning(lambda B, a, dim: oa.unsqueeze(a, dim), lambda B, x, dim: x.unsqueeze(dim)),
    "squeeze": Meaning(lambda B, a, dim=None: sx.squeeze(a, dim), lambda B, x, dim=None: x.squeeze() if dim is None else x.squeeze(dim)),
    "stack": Meaning(lambda B, seq, dim=0: oa.stack(seq, dim), lambda B, seq, dim=0: torch.stack(seq, dim=dim)),
    "cat": Meaning(lambda B, seq, dim=0: oa.cat(seq, dim), lambda B, seq, dim=0: torch.cat(seq, dim=dim)),
    "zeros": Meaning(lambda B, *shape: B.full(shape_arg(shape), 0), lambda B, *shape: B.full(shape_arg(shape), 0)),
    "ones": Meaning(lambda B, *shape: B.full(shape_arg(shape), 1), lambda B, *shape: B.full(shape_arg(shape), 1)),
    "eye": Meaning(lambda B, n, m=None: B.eye(n, m), lambda B, n, m=None: B.eye(n, m)),
    **{name: Meaning(lambda B, *shape: B.random(shape_arg(shape)),
                     lambda B, *shape: B.random(shape_arg(shape)))
       for name in ("randn", "rand", "empty")},
    "tensor": Meaning(lambda B, a: oa.elementwise(oa.detach)(B, a), lambda B, x: x.detach()),
}


@dataclass(frozen=True)
class Row(Signature):
    """A signature with its meanings, side by side: what a call of ``name`` reads and does."""

    sym: Callable = None
    torch: Callable | str = None
    domain: tuple[float, float] = (-2.0, 2.0)


# the wider vocabulary (language.vocabulary), one module per group; imported here, below
# ``Meaning``, which they build their rows with
from jacli.backends import meanings_losses as ml  # noqa: E402
from jacli.backends import meanings_pointwise as mp  # noqa: E402
from jacli.backends import meanings_shape as ms  # noqa: E402
from jacli.backends import meanings_tensor as mt  # noqa: E402

for _group in (mp, mt, ms, ml):
    MEANINGS.update(_group._meanings(Meaning))

ROWS: tuple[Row, ...] = tuple(Row(**vars(s), **vars(MEANINGS[s.name])) for s in SIGNATURES)
TABLE: dict[str, Row] = {row.name: row for row in ROWS}


def lookup(name: str) -> Row | None:
    """The row for a function name or alias, or ``None``."""
    return TABLE.get(ALIASES.get(name, name))
