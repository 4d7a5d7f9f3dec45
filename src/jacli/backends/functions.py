"""The function table: every function of the language is one ``Row`` with both meanings.

``sym`` computes on NumPy object arrays of SymPy expressions, ``torch`` on tensors; both take
the backend ``B`` first (for constants, dtype, device), then the tensor operands, then the
static parameters by name. A test walks every row and checks that the two meanings agree in
value and derivative, and with central finite differences.

Conventions chosen so that SymPy and autograd agree exactly away from kinks and, where
PyTorch has a convention at a kink, at the kink too:
  * ``abs`` is ``Abs``: d/dx = sign(x), and sign(0) = 0 like torch.
  * ``relu`` is its own SymPy function whose derivative is ``Heaviside(x, 0)`` (H(0) = 0),
    matching torch's relu'(0) = 0. The true derivative is undefined at 0.
  * ``maximum``/``minimum`` are ``Max``/``Min``: at a tie SymPy's Heaviside(0) = 1/2 and torch
    also splits the gradient 1/2, 1/2.
  * ``detach`` is its own SymPy function with derivative 0 whose value is its argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from jacli.backends.lazy import torch


class detach(sp.Function):
    """Gradient stop: the value flows through, the derivative is zero (like ``.detach()``)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):  # SymPy's Function.eval hook (auto-evaluation), not the builtin
        if arg.is_number:
            return arg
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero


class relu(sp.Function):
    """max(x, 0) with torch's convention relu'(0) = 0."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            return sp.Max(arg, 0)
        return None

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)


def obj(value) -> np.ndarray:
    """Wrap a SymPy scalar (or an array) as an object ndarray; 0-d for scalars.

    NumPy returns bare objects from ufuncs on 0-d object arrays, so every symbolic result
    passes through here to stay an array.
    """
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    out = np.empty((), dtype=object)
    if isinstance(value, int):  # never user text: internal ints/floats only, built explicitly
        value = sp.Integer(value)
    elif isinstance(value, float):
        value = sp.Float(value)
    out[()] = value
    return out


def elementwise(f: Callable) -> Callable:
    """Lift a SymPy scalar function to object arrays (any shape, 0-d included)."""
    ufunc = np.frompyfunc(f, 1, 1)
    return lambda B, x: obj(ufunc(x))


def binary_elementwise(f: Callable) -> Callable:
    ufunc = broadcasting(np.frompyfunc(f, 2, 1))
    return lambda B, x, y: obj(ufunc(x, y))


def _sym_reduce(combine: Callable, a, dim, keepdim):
    if dim is None:
        total = obj(combine(*a.flat))
        return total.reshape((1,) * a.ndim) if keepdim else total
    check_dim(dim, a.ndim)
    if a.ndim == 0:  # torch reduces a 0-d tensor along dim 0 or -1: its one element
        return obj(combine(a[()]))
    return obj(np.apply_along_axis(lambda v: combine(*v), dim, a)).reshape(
        _reduced_shape(a.shape, dim, keepdim)
    )


def _reduced_shape(shape, dim, keepdim):
    dim = dim % len(shape)
    return tuple(1 if i == dim else n for i, n in enumerate(shape) if keepdim or i != dim)


def _torch_reduce(name: str):
    def run(B, x, dim=None, keepdim=False):
        f = getattr(x, name)
        return f() if dim is None else f(dim=dim, keepdim=keepdim)

    return run


def _sym_mean(B, a, dim=None, keepdim=False):
    check_dim(dim, a.ndim)
    count = a.size if dim is None or a.ndim == 0 else a.shape[dim]
    return obj(_sym_reduce(sp.Add, a, dim, keepdim) * sp.Rational(1, count))


def _sym_norm(B, a):
    return obj(sp.sqrt(sp.Add(*(x**2 for x in a.flat))))


def _sym_dot(a, b):
    """dot of two 1-D arrays of equal length, refused otherwise exactly as torch.dot does."""
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise RuntimeError(f"1D tensors expected, but got {np.ndim(a)}D and {np.ndim(b)}D tensors")
    if np.shape(a) != np.shape(b):
        raise RuntimeError(_size_mismatch(np.size(a), np.size(b)))
    return obj(sp.Add(*np.asarray(a * b).flat))


# -- shape errors in PyTorch's words ------------------------------------------------------
# The symbolic side computes with NumPy, whose messages name gufunc signatures and arrays;
# a user wrote PyTorch, so a shape NumPy refuses is refused with the message torch 2.x gives
# for the same shapes (tests compare the two), and a shape torch refuses but NumPy would
# take (``mm`` of a vector) is refused too.

def _size_mismatch(n: int, k: int) -> str:
    return (f"inconsistent tensor size, expected tensor [{n}] and src [{k}] to have the same "
            f"number of elements, but got {n} and {k} elements respectively")


def broadcast_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> str | None:
    """torch's message when shapes ``sa`` and ``sb`` do not broadcast (``None`` if they
    do). Like torch, the last mismatching dimension of the result is the one named."""
    n = max(len(sa), len(sb))
    for d in range(n - 1, -1, -1):
        i, j = d - (n - len(sa)), d - (n - len(sb))
        x, y = (sa[i] if i >= 0 else 1), (sb[j] if j >= 0 else 1)
        if x != y and x != 1 and y != 1:
            return (f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                    f"non-singleton dimension {d}")
    return None


def broadcasting(f: Callable) -> Callable:
    """``f(a, b)`` on object arrays, with NumPy's broadcasting refusal in torch's words."""
    def run(a, b):
        try:
            return f(a, b)
        except ValueError:
            message = broadcast_error(np.shape(a), np.shape(b))
            if message is None:  # not a broadcasting problem: NumPy's error stands
                raise
            raise RuntimeError(message) from None

    return run


def matmul_error(sa: tuple[int, ...], sb: tuple[int, ...]) -> str | None:
    """torch.matmul's message for operands of shapes ``sa`` and ``sb`` (``None``: fine).
    Past 2-D, torch's wording depends on how it folds the operands (strides, requires_grad):
    these are its words for plain contiguous tensors."""
    if not sa or not sb:
        return (f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D "
                f"and {len(sb)}D")
    if len(sa) == 1 and len(sb) == 1:
        return None if sa == sb else _size_mismatch(sa[0], sb[0])
    if len(sb) <= 2 and len(sa) >= 2:  # torch folds a's leading dimensions into rows
        rows = int(np.prod(sa[:-1], dtype=np.int64))
        if len(sb) == 1:
            return None if sa[-1] == sb[0] else \
                f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
        return None if sa[-1] == sb[0] else (f"mat1 and mat2 shapes cannot be multiplied "
                                              f"({rows}x{sa[-1]} and {sb[0]}x{sb[1]})")
    if len(sa) == 1 and len(sb) == 2:
        return None if sa[0] == sb[0] else (f"mat1 and mat2 shapes cannot be multiplied "
                                             f"(1x{sa[0]} and {sb[0]}x{sb[1]})")
    if len(sa) == 1 and (sb[-2] == 1 or 0 in sb):  # torch folds b's transpose into rows
        rows = int(np.prod(sb[:-2], dtype=np.int64)) * sb[-1]
        return None if sa[0] == sb[-2] else \
            f"size mismatch, got input ({rows}), mat ({rows}x{sb[-2]}), vec ({sa[0]})"
    batch_a, batch_b = sa[:-2], sb[:-2]
    message = broadcast_error(batch_a, batch_b)
    if message is not None:
        return message
    batch = int(np.prod(np.broadcast_shapes(batch_a, batch_b), dtype=np.int64))
    k, kb = sa[-1], sb[-2]
    return None if k == kb else (f"Expected size for first two dimensions of batch2 tensor to "
                                 f"be: [{batch}, {k}] but got: [{batch}, {kb}].")


def sym_matmul(a, b) -> np.ndarray:
    """``a @ b`` on object arrays: NumPy's matmul has torch.matmul's semantics; only its
    refusals are re-worded."""
    message = matmul_error(np.shape(a), np.shape(b))
    if message is not None:
        raise RuntimeError(message)
    return obj(np.matmul(a, b))


def _sym_mm(a, b) -> np.ndarray:
    """torch.mm: matrices only."""
    if np.ndim(a) != 2:
        raise RuntimeError("self must be a matrix")
    if np.ndim(b) != 2:
        raise RuntimeError("mat2 must be a matrix")
    return sym_matmul(a, b)


def _sym_mv(a, b) -> np.ndarray:
    """torch.mv: a matrix and a vector only."""
    if np.ndim(a) == 0:
        raise RuntimeError("Dimension specified as 0 but tensor has no dimensions")
    if np.ndim(a) != 2 or np.ndim(b) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {np.ndim(a)}, "
                           f"{np.ndim(b)}")
    return sym_matmul(a, b)


def reshape_error(size: int, shape: tuple[int, ...]) -> str | None:
    """torch's message when ``view``/``reshape`` to ``shape`` cannot hold ``size`` elements."""
    text = "[" + ", ".join(map(str, shape)) + "]"
    inferred = False
    for i, d in enumerate(shape):  # left to right, as torch checks them
        if d == -1 and inferred:
            return "only one dimension can be inferred"
        if d < -1:
            return f"invalid shape dimension {d} at index {i} of shape {text}"
        inferred = inferred or d == -1
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if -1 in shape and known == 0:
        if size == 0:
            return (f"cannot reshape tensor of 0 elements into shape {text} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous")
        return f"shape '{text}' is invalid for input of size {size}"
    if (size % known if -1 in shape else size != known):
        return f"shape '{text}' is invalid for input of size {size}"
    return None


def _sym_reshape(a, *shape) -> np.ndarray:
    shape = _shape_arg(shape)
    message = reshape_error(np.size(a), shape)
    if message is not None:
        raise RuntimeError(message)
    return obj(np.reshape(a, shape))


def check_dim(dim: int | None, ndim: int) -> None:
    """torch's refusal of a dimension out of range for a tensor of ``ndim`` dimensions (a 0-d
    tensor takes 0 and -1)."""
    n = max(ndim, 1)
    if dim is not None and not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")


def expand_error(src: tuple[int, ...], target: tuple[int, ...]) -> str | None:
    """torch's message when a value of shape ``src`` cannot be written into a region of
    shape ``target`` (``x[i] = v``; leading 1s of ``src`` are dropped, as torch does)."""
    while src and src[0] == 1:
        src = src[1:]
    shown = lambda shape: "[" + ", ".join(map(str, shape)) + "]"  # noqa: E731
    if len(src) > len(target):
        return (f"expand(torch.DoubleTensor{{{shown(src)}}}, size={shown(target)}): the number "
                f"of sizes provided ({len(target)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({len(src)})")
    for i in range(len(target) - 1, -1, -1):
        j = i - (len(target) - len(src))
        if j >= 0 and src[j] != target[i] and src[j] != 1:
            return (f"The expanded size of the tensor ({target[i]}) must match the existing "
                    f"size ({src[j]}) at non-singleton dimension {i}.  Target sizes: "
                    f"{shown(target)}.  Tensor sizes: {shown(src)}")
    return None


def _sym_transpose(a, dim0, dim1) -> np.ndarray:
    check_dim(dim0, np.ndim(a))
    check_dim(dim1, np.ndim(a))
    return obj(np.swapaxes(a, dim0, dim1)) if np.ndim(a) else a


def _sym_unsqueeze(a, dim) -> np.ndarray:
    check_dim(dim, np.ndim(a) + 1)
    return obj(np.expand_dims(a, dim))


def _sym_stack(seq, dim=0) -> np.ndarray:
    for i, item in enumerate(seq[1:], 1):
        if np.shape(item) != np.shape(seq[0]):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(np.shape(seq[0]))} at entry 0 and {list(np.shape(item))} "
                               f"at entry {i}")
    check_dim(dim, np.ndim(seq[0]) + 1)
    return obj(np.stack(seq, axis=dim))


def _sym_cat(seq, dim=0) -> np.ndarray:
    for i, item in enumerate(seq):
        if np.ndim(item) == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    first = np.shape(seq[0])
    check_dim(dim, len(first))
    d = dim % len(first)
    for i, item in enumerate(seq[1:], 1):
        shape = np.shape(item)
        if len(shape) != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} "
                               f"and {len(shape)}")
        for k, (x, y) in enumerate(zip(first, shape)):
            if k != d and x != y:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {x} but got size {y} for tensor number {i} "
                                   "in the list.")
    return obj(np.concatenate(seq, axis=dim))


def _shape_arg(shape) -> tuple[int, ...]:
    """``view(2, 2)`` and ``view((2, 2))`` both mean shape (2, 2)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


@dataclass(frozen=True)
class Row:
    """One function of the language.

    ``tensors``: (min, max) tensor operands; ``(-1, -1)`` takes one list of tensors
    (``stack([a, b])``). ``params``: names of the static (int) parameters after them, in
    positional order; a leading ``*`` collects the rest (``*shape``). ``keywords``: static
    keyword arguments accepted (and ignored when not in ``params``, like ``dtype``).
    ``domain``: where the table test samples points: (low, high). ``torch`` is the meaning
    on tensors, or, for an elementwise row, the name of the torch function that is its whole
    meaning (``"sin"``: ``torch.sin``), which lowering then calls directly
    (``TorchBackend.function``).
    """

    name: str
    kind: str
    sym: Callable
    torch: Callable | str
    doc: str
    tensors: tuple[int, int] = (1, 1)
    params: tuple[str, ...] = ()
    keywords: frozenset[str] = field(default_factory=frozenset)
    domain: tuple[float, float] = (-2.0, 2.0)


def _ew(name, sym_f, torch_name, doc, domain=(-2.0, 2.0)) -> Row:
    """An elementwise row whose torch meaning is ``torch.<torch_name>`` itself."""
    return Row(name, "elementwise", elementwise(sym_f), torch_name, doc, domain=domain)


_DIMS = frozenset({"dim", "keepdim", "axis"})
_CTOR = frozenset({"requires_grad", "dtype", "device"})

ROWS: tuple[Row, ...] = (
    # --- elementwise math -------------------------------------------------------------
    _ew("sin", sp.sin, "sin", "sine"),
    _ew("cos", sp.cos, "cos", "cosine"),
    _ew("tan", sp.tan, "tan", "tangent", (-1.2, 1.2)),
    _ew("asin", sp.asin, "asin", "inverse sine", (-0.9, 0.9)),
    _ew("acos", sp.acos, "acos", "inverse cosine", (-0.9, 0.9)),
    _ew("atan", sp.atan, "atan", "inverse tangent"),
    _ew("sinh", sp.sinh, "sinh", "hyperbolic sine"),
    _ew("cosh", sp.cosh, "cosh", "hyperbolic cosine"),
    _ew("tanh", sp.tanh, "tanh", "hyperbolic tangent"),
    _ew("asinh", sp.asinh, "asinh", "inverse hyperbolic sine"),
    _ew("acosh", sp.acosh, "acosh", "inverse hyperbolic cosine", (1.1, 3.0)),
    _ew("atanh", sp.atanh, "atanh", "inverse hyperbolic tangent", (-0.9, 0.9)),
    _ew("exp", sp.exp, "exp", "e to the x"),
    _ew("log", sp.log, "log", "natural logarithm", (0.1, 3.0)),
    _ew("log2", lambda x: sp.log(x, 2), "log2", "base-2 logarithm", (0.1, 3.0)),
    _ew("log10", lambda x: sp.log(x, 10), "log10", "base-10 logarithm", (0.1, 3.0)),
    _ew("sqrt", sp.sqrt, "sqrt", "square root", (0.1, 3.0)),
    _ew("abs", sp.Abs, "abs", "absolute value; d/dx = sign(x), 0 at 0"),
    _ew("square", lambda x: x**2, "square", "x**2"),
    _ew("sigmoid", lambda x: 1 / (1 + sp.exp(-x)), "sigmoid", "logistic 1/(1+exp(-x))"),
    _ew("relu", relu, "relu", "max(x, 0); derivative 0 at 0 (torch's convention)"),
    _ew("softplus", lambda x: sp.log(1 + sp.exp(x)), "nn.functional.softplus", "log(1 + exp(x))"),
    Row("pow", "elementwise", binary_elementwise(lambda x, p: x**p),
        lambda B, x, p: torch.pow(x, p), "x**p", tensors=(2, 2), domain=(0.5, 2.0)),
    Row("maximum", "elementwise", binary_elementwise(sp.Max),
        lambda B, x, y: torch.maximum(x, y), "elementwise max; a tie splits the gradient",
        tensors=(2, 2)),
    Row("minimum", "elementwise", binary_elementwise(sp.Min),
        lambda B, x, y: torch.minimum(x, y), "elementwise min; a tie splits the gradient",
        tensors=(2, 2)),
    # --- gradient stop ----------------------------------------------------------------
    Row("detach", "gradient", elementwise(detach), lambda B, x: x.detach(),
        "value flows, derivative is zero"),
    # --- reductions -------------------------------------------------------------------
    Row("sum", "reduction", lambda B, a, dim=None, keepdim=False: _sym_reduce(sp.Add, a, dim, keepdim),
        _torch_reduce("sum"), "sum of elements (dim=, keepdim=)", params=("dim",), keywords=_DIMS),
    Row("mean", "reduction", _sym_mean, _torch_reduce("mean"), "mean of elements (dim=, keepdim=)",
        params=("dim",), keywords=_DIMS),
    Row("prod", "reduction", lambda B, a, dim=None, keepdim=False: _sym_reduce(sp.Mul, a, dim, keepdim),
        _torch_reduce("prod"), "product of elements (dim=, keepdim=)", params=("dim",),
        keywords=_DIMS),
    Row("norm", "reduction", _sym_norm, lambda B, x: torch.linalg.vector_norm(x),
        "Euclidean norm of all elements", domain=(0.5, 2.0)),
    Row("dot", "product", lambda B, a, b: _sym_dot(a, b), lambda B, a, b: torch.dot(a, b),
        "inner product of two 1-D tensors", tensors=(2, 2)),
    # --- products ---------------------------------------------------------------------
    Row("matmul", "product", lambda B, a, b: sym_matmul(a, b), lambda B, a, b: torch.matmul(a, b),
        "matrix product, same as @", tensors=(2, 2)),
    Row("mm", "product", lambda B, a, b: _sym_mm(a, b), lambda B, a, b: torch.mm(a, b),
        "matrix-matrix product", tensors=(2, 2)),
    Row("mv", "product", lambda B, a, b: _sym_mv(a, b), lambda B, a, b: torch.mv(a, b),
        "matrix-vector product", tensors=(2, 2)),
    # --- shape ------------------------------------------------------------------------
    Row("view", "shape", lambda B, a, *shape: _sym_reshape(a, *shape),
        lambda B, x, *shape: x.view(_shape_arg(shape)), "same elements, new shape (-1 infers)",
        params=("*shape",)),
    Row("reshape", "shape", lambda B, a, *shape: _sym_reshape(a, *shape),
        lambda B, x, *shape: x.reshape(_shape_arg(shape)), "same elements, new shape",
        params=("*shape",)),
    Row("flatten", "shape", lambda B, a: obj(a.reshape(-1)), lambda B, x: x.flatten(),
        "all elements as a 1-D tensor"),
    Row("T", "shape", lambda B, a: obj(a.T), lambda B, x: x.T if x.ndim == 2 else x.permute(
        *reversed(range(x.ndim))), "transpose (reverse all axes)"),
    Row("t", "shape", lambda B, a: obj(a.T), lambda B, x: x.t(), "transpose of a 2-D tensor"),
    Row("transpose", "shape", lambda B, a, dim0, dim1: _sym_transpose(a, dim0, dim1),
        lambda B, x, dim0, dim1: x.transpose(dim0, dim1), "swap two axes",
        params=("dim0", "dim1")),
    Row("unsqueeze", "shape", lambda B, a, dim: _sym_unsqueeze(a, dim),
        lambda B, x, dim: x.unsqueeze(dim), "insert an axis of length 1", params=("dim",)),
    Row("squeeze", "shape", lambda B, a: obj(np.squeeze(a)), lambda B, x: x.squeeze(),
        "drop axes of length 1"),
    Row("stack", "shape", lambda B, seq, dim=0: _sym_stack(seq, dim),
        lambda B, seq, dim=0: torch.stack(seq, dim=dim), "stack tensors along a new axis",
        tensors=(-1, -1), params=("dim",), keywords=_DIMS),
    Row("cat", "shape", lambda B, seq, dim=0: _sym_cat(seq, dim),
        lambda B, seq, dim=0: torch.cat(seq, dim=dim), "concatenate tensors along an axis",
        tensors=(-1, -1), params=("dim",), keywords=_DIMS),
    # --- constructors -----------------------------------------------------------------
    Row("zeros", "constructor", lambda B, *shape: B.full(_shape_arg(shape), 0),
        lambda B, *shape: B.full(_shape_arg(shape), 0), "a tensor of zeros",
        tensors=(0, 0), params=("*shape",), keywords=_CTOR),
    Row("ones", "constructor", lambda B, *shape: B.full(_shape_arg(shape), 1),
        lambda B, *shape: B.full(_shape_arg(shape), 1), "a tensor of ones",
        tensors=(0, 0), params=("*shape",), keywords=_CTOR),
    Row("eye", "constructor", lambda B, n, m=None: B.eye(n, m), lambda B, n, m=None: B.eye(n, m),
        "identity matrix", tensors=(0, 0), params=("n", "m"), keywords=_CTOR),
    *(Row(name, "constructor", lambda B, *shape: B.random(_shape_arg(shape)),
          lambda B, *shape: B.random(_shape_arg(shape)),
          "random values: every element must be written before it is read",
          tensors=(0, 0), params=("*shape",), keywords=_CTOR) for name in ("randn", "rand", "empty")),
    Row("tensor", "constructor", lambda B, a: elementwise(detach)(B, a),
        lambda B, x: x.detach(), "a tensor from data; like torch.tensor it copies (no gradient)",
        keywords=_CTOR),
)

ALIASES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "absolute": "abs", "Tensor": "tensor",
    "FloatTensor": "tensor", "DoubleTensor": "tensor", "as_tensor": "tensor",
    "max": "maximum", "min": "minimum",
}

TABLE: dict[str, Row] = {row.name: row for row in ROWS}


def lookup(name: str) -> Row | None:
    """The row for a function name or alias, or ``None``."""
    return TABLE.get(ALIASES.get(name, name))


def known_names() -> list[str]:
    """Every name a user may call, for "did you mean" hints and the README."""
    return sorted(set(TABLE) | set(ALIASES))
