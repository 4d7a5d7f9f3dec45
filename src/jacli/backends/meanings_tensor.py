"""Meanings of the wider vocabulary's reductions, softmax family and linear algebra (see
``language.vocabulary``): SymPy on object arrays beside the torch function itself.

Dims follow PyTorch: negative dims count from the end, a tuple reduces several, a 0-d
tensor takes dim 0 or -1. Where torch has a default that depends on the shape
(``F.softmax`` without ``dim``, ``torch.cross`` without ``dim``) the same rule picks it here.
"""

from __future__ import annotations

import numpy as np

from jacli.backends.lazy import torch, sympy as sp, object_arrays as oa, sym_extra as sx
from jacli.backends.meanings_pointwise import fl


def softmax_dim(ndim: int) -> int:
    """``F.softmax(x)`` without ``dim``: PyTorch's legacy choice (0 for 0-, 1- and 3-D)."""
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(sign: int, log: bool):
    def one(v):
        e = [sp.exp(sign * x) for x in v]
        s = sp.Add(*e)
        return [sign * x - sp.log(s) for x in v] if log else [t / s for t in e]

    def sym(B, a, dim=None, dtype=None):
        return sx.along(one, a, softmax_dim(np.ndim(a)) if dim is None else dim)

    return sym


def _torch_softmax(name: str):
    def run(B, x, dim=None, dtype=None):
        return getattr(torch.nn.functional, name)(x, softmax_dim(x.ndim) if dim is None else dim)

    return run


def _running(combine):
    def one(v):
        out, acc = [], None
        for x in v:
            acc = x if acc is None else combine(acc, x)
            out.append(acc)
        return out

    return lambda B, a, dim, dtype=None: sx.along(one, a, dim)


def _pnorm(v, p) -> sp.Expr:
    """The p-norm of the elements ``v``: 2 without ``Abs`` (sqrt of squares), inf the
    largest |x|, 0 the count of nonzeros."""
    if p == 2:
        return sp.sqrt(sp.Add(*(x**2 for x in v)))
    if p == sp.oo:
        return sp.Max(*(sp.Abs(x) for x in v)) if v else sp.S.Zero
    if p == 1:
        return sp.Add(*(sp.Abs(x) for x in v))
    return sp.Add(*(sp.Abs(x) ** p for x in v)) ** (1 / p)


def _p(p):
    if p in (None, "fro"):
        return sp.Integer(2)
    if isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported; use 'fro' or a number")
    return sx.q(p)


def norm(B, a, p="fro", dim=None, keepdim=False):
    return sx.reduce_dims(lambda v: _pnorm(v, _p(p)), a, dim, keepdim)


def _normalize(B, a, p=2, dim=1, eps=None):
    """x / max(‖x‖_p along dim, eps), the max passing the gradient at a tie (clamp_min);
    eps 10⁻¹² unless given."""
    n = norm(B, a, p, dim, True)
    floor = sp.Rational(1, 10**12) if eps is None else (
        sx.q(eps) if not isinstance(eps, sp.Expr) else eps)
    denom = np.frompyfunc(lambda v: sp.Piecewise((floor, v < floor), (v, True)), 1, 1)(n)
    return oa.obj(oa.broadcasting(np.divide)(np.asarray(a), denom))


def linalg_norm(B, a, ord=None, dim=None, keepdim=False):
    matrix = (dim is None and np.ndim(a) >= 2) or (isinstance(dim, tuple) and len(dim) == 2)
    if matrix and ord not in (None, "fro"):
        raise RuntimeError("linalg.norm: matrix norms other than 'fro' are not supported "
                           "(use linalg.vector_norm for the norm of all elements)")
    return norm(B, a, "fro" if ord is None else ord, dim, keepdim)


def _variance(B, a, dim=None, unbiased=None, keepdim=False, correction=None, root=False):
    c = sx.q(correction if correction is not None else (1 if unbiased in (None, True) else 0))

    def one(v):
        m = sp.Add(*v) / len(v)
        var = sp.Add(*((x - m) ** 2 for x in v)) / (len(v) - c)
        return sp.sqrt(var) if root else var

    return sx.reduce_dims(one, a, dim, keepdim)


def _torch_variance(name: str):
    def run(B, x, dim=None, unbiased=None, keepdim=False, correction=None):
        if unbiased is not None and correction is None:
            correction = 1 if unbiased else 0
        return getattr(torch, name)(x, dim=dim, correction=1 if correction is None
                                    else fl(correction), keepdim=keepdim)

    return run


def _matrix(a) -> sp.Matrix:
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise RuntimeError("linalg: A must be batches of square matrices, but they are "
                           f"{' by '.join(map(str, a.shape[-2:]))} matrices")
    return sp.Matrix(a.tolist())


def _batched(f):
    """``f`` of one square matrix, over the leading (batch) dims of ``a``."""
    def run(B, a):
        a = np.asarray(a)
        if a.ndim < 2:
            raise RuntimeError("linalg: The input tensor A must have at least 2 dimensions.")
        results = [f(_matrix(a[idx])) for idx in np.ndindex(*a.shape[:-2])]
        return oa.obj(np.stack([np.asarray(r, dtype=object) for r in results]).reshape(
            a.shape[:-2] + np.shape(np.asarray(results[0], dtype=object))))

    return run


def _inverse(m: sp.Matrix):
    det = m.det(method="berkowitz")
    return np.array((m.adjugate() / det).tolist(), dtype=object)


def _solve(B, a, b):
    inv = _batched(_inverse)(B, a)
    return oa.matmul(inv, b) if np.ndim(b) > 1 else oa.matmul(inv, b)


def _trace(B, a):
    if np.ndim(a) != 2:
        raise RuntimeError("trace: expected a matrix")
    return oa.obj(sp.Add(*np.diagonal(np.asarray(a))))


def _diag(B, a, diagonal=0):
    a = np.asarray(a)
    if a.ndim == 1:
        n = a.shape[0] + abs(diagonal)
        out = np.full((n, n), sp.S.Zero, dtype=object)
        for i, x in enumerate(a):
            out[(i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)] = x
        return oa.obj(out)
    if a.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{a.ndim}D")
    return oa.obj(np.diagonal(a, diagonal).copy())


def _triangle(lower: bool):
    def run(B, a, diagonal=0):
        a = np.asarray(a)
        if a.ndim < 2:
            raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at "
                               "least 2 dimensions")
        i, j = np.indices(a.shape[-2:])
        keep = (j - i <= diagonal) if lower else (j - i >= diagonal)
        return oa.obj(np.where(keep, a, sp.S.Zero))

    return run


def _first_three(shape) -> int:
    """``torch.cross`` without ``dim``: the first dim of size 3 (deprecated in torch, which
    warns; linalg.cross's -1 is the future default)."""
    dim = next((d for d, n in enumerate(shape) if n == 3), None)
    if dim is None:
        raise RuntimeError("no dimension of size 3 in input")
    return dim


def _cross(B, a, b, dim=None):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    if dim is None:
        dim = _first_three(a.shape)
    if a.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                           f"Got {a.shape[dim]} and {b.shape[dim]}")
    x, y = np.moveaxis(a, dim, 0), np.moveaxis(b, dim, 0)
    c = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]]
    return oa.obj(np.moveaxis(np.stack(c), 0, dim))


def _outer(B, a, b):
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return oa.obj(np.multiply.outer(np.asarray(a), np.asarray(b)))


def _bmm(B, a, b):
    if np.ndim(a) != 3 or np.ndim(b) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    return oa.matmul(a, b)


def _einsum(B, *tensors, equation):
    return oa.obj(np.einsum(equation, *[np.asarray(t) for t in tensors]))


def _extreme(first: str):
    """max/min along dim: ``sym_extra``'s function named ``first`` on each slice."""
    def sym(B, a, dim, keepdim=False, pick=0):
        return sx.reduce_dims(lambda v: getattr(sx, first)(*v), a, dim, keepdim)

    return sym


def _torch_extreme(name: str):
    return lambda B, x, dim, keepdim=False, pick=0: getattr(x, name)(dim, keepdim)[pick]


def _meanings(Meaning) -> dict:
    T = lambda name: (lambda B, *t, **kw: getattr(torch, name)(*t, **kw))  # noqa: E731
    return {
        "softmax": Meaning(_softmax(1, False), _torch_softmax("softmax")),
        "log_softmax": Meaning(_softmax(1, True), _torch_softmax("log_softmax")),
        "softmin": Meaning(_softmax(-1, False), _torch_softmax("softmin")),
        "normalize": Meaning(_normalize, lambda B, x, p=2, dim=1, eps=1e-12:
                             torch.nn.functional.normalize(x, fl(p), dim, fl(eps)), (0.5, 2.0)),
        "logsumexp": Meaning(
            lambda B, a, dim=None, keepdim=False: sx.reduce_dims(
                lambda v: sp.log(sp.Add(*(sp.exp(x) for x in v))), a, dim, keepdim),
            lambda B, x, dim=None, keepdim=False: torch.logsumexp(
                x, tuple(range(x.ndim)) if dim is None else dim, keepdim)),
        "var": Meaning(_variance, _torch_variance("var")),
        "std": Meaning(lambda B, a, **kw: _variance(B, a, root=True, **kw),
                       _torch_variance("std"), (0.5, 2.0)),
        "cumsum": Meaning(_running(lambda s, x: s + x),
                          lambda B, x, dim, dtype=None: torch.cumsum(x, dim)),
        "cumprod": Meaning(_running(lambda s, x: s * x),
                           lambda B, x, dim, dtype=None: torch.cumprod(x, dim)),
        "vector_norm": Meaning(
            lambda B, a, ord=2, dim=None, keepdim=False: norm(B, a, ord, dim, keepdim),
            lambda B, x, ord=2, dim=None, keepdim=False: torch.linalg.vector_norm(
                x, fl(ord), dim, keepdim), (0.5, 2.0)),
        "linalg_norm": Meaning(linalg_norm, lambda B, x, ord=None, dim=None, keepdim=False:
                               torch.linalg.norm(x, fl(ord), dim, keepdim), (0.5, 2.0)),
        "max_dim": Meaning(_extreme("max_first"), _torch_extreme("max")),
        "min_dim": Meaning(_extreme("min_first"), _torch_extreme("min")),
        "outer": Meaning(_outer, T("outer")),
        "einsum": Meaning(_einsum, lambda B, *t, equation: torch.einsum(equation, *t)),
        "bmm": Meaning(_bmm, T("bmm")),
        "trace": Meaning(_trace, T("trace")),
        "diag": Meaning(_diag, T("diag")),
        "diagonal": Meaning(lambda B, a, offset=0, dim1=0, dim2=1: oa.obj(
            np.diagonal(np.asarray(a), offset, dim1, dim2).copy()), T("diagonal")),
        "tril": Meaning(_triangle(True), T("tril")),
        "triu": Meaning(_triangle(False), T("triu")),
        "det": Meaning(_batched(lambda m: m.det(method="berkowitz")),
                       lambda B, x: torch.linalg.det(x)),
        "inverse": Meaning(_batched(_inverse), lambda B, x: torch.linalg.inv(x), (0.5, 2.0)),
        "solve": Meaning(_solve, lambda B, a, b: torch.linalg.solve(a, b)),
        "cross": Meaning(_cross, lambda B, a, b, dim=None: torch.linalg.cross(
            a, b, dim=_first_three(torch.broadcast_shapes(a.shape, b.shape)) if dim is None
            else dim)),
        "linalg_cross": Meaning(lambda B, a, b, dim=-1: _cross(B, a, b, dim),
                                lambda B, a, b, dim=-1: torch.linalg.cross(a, b, dim=dim)),
        "kron": Meaning(lambda B, a, b: oa.obj(np.kron(np.asarray(a), np.asarray(b))),
                        T("kron")),
    }
