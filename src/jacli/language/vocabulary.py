"""PyTorch's wider vocabulary: pointwise math, activations, reductions, linear algebra, shape
functions, ``*_like`` constructors and losses, as the parser reads them.

Each row keeps PyTorch's own parameter names and positional order (``leaky_relu(x, 0.2)`` is
``negative_slope=0.2``), so a snippet pastes in unchanged; keyword-only arguments (a loss's
``reduction=``) are in ``keywords`` and not in ``params``. Appended to
``signatures.SIGNATURES``; the meanings are in ``backends.meanings_*``. Pure data.
"""

from __future__ import annotations

_DIMS = ("dim", "keepdim")


def _row(name: str, kind: str, group: str, doc: str, tensors=(1, 1), params=(), keywords=(),
         reals=(), strings=(), condition=-1, tuple_out=False) -> dict:
    """A ``Signature``'s fields (built by ``signatures``, which imports this module); its
    positional params are also accepted as keywords, as in PyTorch."""
    return dict(name=name, kind=kind, doc=doc, tensors=tensors, params=tuple(params),
                keywords=frozenset(params) | frozenset(keywords), reals=frozenset(reals),
                strings=frozenset(strings), condition=condition, tuple_out=tuple_out,
                group=group)


def _pointwise(name: str, doc: str, group: str = "pointwise", **kw) -> dict:
    return _row(name, "elementwise", group, doc, **kw)


def _loss(name: str, doc: str, tensors=(2, 2), params=(), reals=(), keywords=(),
          strings=()) -> dict:
    return _row(name, "tensor", "loss", doc + "; reduction='mean' | 'sum' | 'none'", tensors,
                params, ("reduction",) + tuple(keywords), reals,
                ("reduction",) + tuple(strings))


_POINTWISE = (
    _pointwise("expm1", "exp(x) - 1"),
    _pointwise("log1p", "log(1 + x)"),
    _pointwise("exp2", "2**x"),
    _pointwise("erf", "error function"),
    _pointwise("erfc", "1 - erf(x)"),
    _pointwise("erfinv", "inverse error function"),
    _pointwise("sinc", "normalised sinc: sin(pi*x)/(pi*x), 1 at 0"),
    _pointwise("sign", "-1, 0 or 1; gradient 0 (PyTorch's convention)"),
    _pointwise("floor", "largest integer <= x; gradient 0"),
    _pointwise("ceil", "smallest integer >= x; gradient 0"),
    _pointwise("round", "nearest integer, ties to even; gradient 0"),
    _pointwise("trunc", "integer part, toward 0; gradient 0"),
    _pointwise("frac", "x - trunc(x); gradient 1"),
    _pointwise("reciprocal", "1/x"),
    _pointwise("rsqrt", "1/sqrt(x)"),
    _pointwise("clamp", "min(max(x, min), max); the gradient passes at the bounds",
               params=("min", "max"), reals=("min", "max")),
    _pointwise("atan2", "atan2(input, other): the angle of the point (other, input)", tensors=(2, 2)),
    _pointwise("hypot", "sqrt(input**2 + other**2)", tensors=(2, 2)),
    _pointwise("lerp", "input + weight*(end - input)", tensors=(3, 3)),
    _pointwise("where", "x where the comparison (written in place: x > 0) holds, else "
               "y; the gradient goes to the branch taken", tensors=(3, 3), condition=0),
)

_ACTIVATIONS = (
    _pointwise("leaky_relu", "x if x > 0 else negative_slope*x (0.01)", "activation",
               params=("negative_slope",), reals=("negative_slope",)),
    _pointwise("elu", "x if x > 0 else alpha*(exp(x) - 1) (alpha=1)", "activation",
               params=("alpha",), reals=("alpha",)),
    _pointwise("selu", "scale*elu(x, alpha) with PyTorch's constants", "activation"),
    _pointwise("celu", "x if x > 0 else alpha*(exp(x/alpha) - 1) (alpha=1)", "activation",
               params=("alpha",), reals=("alpha",)),
    _pointwise("gelu", "x*Phi(x); approximate='tanh' for the tanh form", "activation",
               keywords=("approximate",), strings=("approximate",)),
    _pointwise("silu", "x*sigmoid(x), the swish", "activation"),
    _pointwise("mish", "x*tanh(softplus(x))", "activation"),
    _pointwise("hardtanh", "x clipped to [min_val, max_val] (-1, 1); gradient 0 at the bounds",
               "activation", params=("min_val", "max_val"), reals=("min_val", "max_val")),
    _pointwise("relu6", "hardtanh(x, 0, 6)", "activation"),
    _pointwise("hardsigmoid", "relu6(x + 3)/6", "activation"),
    _pointwise("hardswish", "x*relu6(x + 3)/6", "activation"),
    _pointwise("softsign", "x/(1 + |x|)", "activation"),
    _pointwise("logsigmoid", "log(sigmoid(x)) = -softplus(-x)", "activation"),
    _pointwise("tanhshrink", "x - tanh(x)", "activation"),
    _row("softmax", "tensor", "activation", "exp(x)/sum(exp(x)) along dim", params=("dim",),
         keywords=("dtype",)),
    _row("log_softmax", "tensor", "activation", "x - logsumexp(x) along dim", params=("dim",),
         keywords=("dtype",)),
    _row("softmin", "tensor", "activation", "softmax(-x) along dim", params=("dim",),
         keywords=("dtype",)),
    _row("normalize", "tensor", "activation", "x / max(p-norm along dim, eps) (p=2, dim=1)",
         params=("p", "dim", "eps"), reals=("p", "eps")),
)

_REDUCTIONS = (
    _row("logsumexp", "reduction", "reduction", "log(sum(exp(x))) along dim (keepdim=)",
         params=_DIMS),
    _row("var", "reduction", "reduction", "variance along dim (correction=1; unbiased=)",
         params=("dim", "unbiased", "keepdim"), keywords=("correction",)),
    _row("std", "reduction", "reduction", "standard deviation along dim (correction=1; "
         "unbiased=)", params=("dim", "unbiased", "keepdim"), keywords=("correction",)),
    _row("cumsum", "tensor", "reduction", "running sum along dim", params=("dim",),
         keywords=("dtype",)),
    _row("cumprod", "tensor", "reduction", "running product along dim", params=("dim",),
         keywords=("dtype",)),
    _row("vector_norm", "reduction", "reduction", "linalg.vector_norm: ord-norm (ord=2) over "
         "dim (all by default)", params=("ord", "dim", "keepdim"), reals=("ord",)),
    _row("linalg_norm", "reduction", "reduction", "torch.linalg.norm: a vector ord-norm, or "
         "the Frobenius norm of a matrix (other matrix norms are refused)",
         params=("ord", "dim", "keepdim"), reals=("ord",), strings=("ord",)),
    _row("max_dim", "reduction", "reduction", "max(a, dim) -> (values, indices): .values or [0]; "
         "the whole gradient goes to the returned (first) index", params=_DIMS,
         tuple_out=True),
    _row("min_dim", "reduction", "reduction", "min(a, dim) -> (values, indices): .values or [0]; "
         "the whole gradient goes to the returned (first) index", params=_DIMS,
         tuple_out=True),
)

_LINALG = (
    _row("outer", "product", "linear algebra", "outer product of two vectors", (2, 2)),
    _row("einsum", "product", "linear algebra", "einsum('ij,jk->ik', a, b): subscripts, then "
         "the tensors", (1, 8), ("equation",), strings=("equation",)),
    _row("bmm", "product", "linear algebra", "batched matrix product (3-D)", (2, 2)),
    _row("trace", "product", "linear algebra", "sum of the diagonal of a matrix"),
    _row("diag", "product", "linear algebra", "vector -> diagonal matrix; matrix -> its "
         "diagonal (diagonal=k)", params=("diagonal",)),
    _row("diagonal", "shape", "linear algebra", "the diagonal (offset, dim1, dim2) as the last "
         "axis", params=("offset", "dim1", "dim2")),
    _row("tril", "product", "linear algebra", "lower triangle (diagonal=k), zeros above",
         params=("diagonal",)),
    _row("triu", "product", "linear algebra", "upper triangle (diagonal=k), zeros below",
         params=("diagonal",)),
    _row("det", "product", "linear algebra", "determinant of a square matrix"),
    _row("inverse", "product", "linear algebra", "inverse of a square matrix"),
    _row("solve", "product", "linear algebra", "linalg.solve(A, B): X with A @ X = B", (2, 2)),
    _row("cross", "product", "linear algebra", "cross product of 3-vectors along dim (default: "
         "the first dim of size 3, as torch.cross)", (2, 2), ("dim",)),
    _row("linalg_cross", "product", "linear algebra", "torch.linalg.cross: along dim (-1)",
         (2, 2), ("dim",)),
    _row("kron", "product", "linear algebra", "Kronecker product", (2, 2)),
)

_SHAPE = (
    _row("permute", "shape", "shape", "reorder the axes", params=("*shape",)),
    _row("expand", "shape", "shape", "broadcast to a larger shape (-1 keeps a size)",
         params=("*shape",)),
    _row("repeat", "shape", "shape", "tile the tensor (sizes per axis)", params=("*shape",)),
    _row("flip", "shape", "shape", "reverse the order along dims", params=("*shape",)),
    _row("roll", "shape", "shape", "shift elements cyclically (shifts, dims)",
         params=("shifts", "dims")),
    _row("narrow", "shape", "shape", "narrow(dim, start, length): a slice",
         params=("dim", "start", "length")),
    _row("chunk", "shape", "shape", "split into chunks (a tuple: take [i])",
         params=("chunks", "dim"), tuple_out=True),
    _row("split", "shape", "shape", "split into pieces of a size, or of a list of sizes (a "
         "tuple: take [i])", params=("split_size_or_sections", "dim"), tuple_out=True),
    _row("unbind", "shape", "shape", "the slices along dim (a tuple: take [i])",
         params=("dim",), tuple_out=True),
    _row("gather", "shape", "shape", "gather(dim, index): values at integer indices",
         params=("dim", "index")),
    _row("index_select", "shape", "shape", "index_select(dim, index): slices at indices",
         params=("dim", "index")),
    _row("masked_fill", "shape", "shape", "masked_fill(x < 0, value): value where the "
         "comparison holds (gradient 0 there)", (2, 2), ("value",), reals=("value",),
         condition=1),
    _row("pad", "shape", "shape", "F.pad(x, (left, right, ...), value=0): constant padding",
         params=("pad", "mode", "value"), reals=("value",), strings=("mode",)),
)

_LIKE = tuple(
    _row(f"{stem}_like", "constructor", "constructor", doc, params=params,
         keywords=("dtype", "device", "requires_grad"), reals=params)
    for stem, doc, params in (
        ("zeros", "zeros of x's shape", ()), ("ones", "ones of x's shape", ()),
        ("full", "fill_value everywhere, of x's shape", ("fill_value",)),
        ("randn", "random values of x's shape: write before reading", ()),
        ("rand", "random values of x's shape: write before reading", ()),
        ("empty", "unset values of x's shape: write before reading", ()))
)

_LOSSES = (
    _loss("mse_loss", "mean squared error (input - target)**2"),
    _loss("l1_loss", "|input - target|"),
    _loss("smooth_l1_loss", "0.5*d**2/beta if |d| < beta else |d| - beta/2 (beta=1)",
          keywords=("beta",), reals=("beta",)),
    _loss("huber_loss", "0.5*d**2 if |d| <= delta else delta*(|d| - delta/2) (delta=1)",
          keywords=("delta",), reals=("delta",)),
    _loss("cross_entropy", "log_softmax over classes, then the target's entry: class indices "
          "[0, 2] or probabilities", (1, 2), ("target",)),
    _loss("nll_loss", "-input[n, target[n]]: class indices", (1, 1), ("target",)),
    _loss("binary_cross_entropy", "-(t*log(x) + (1-t)*log(1-x)); torch clamps each log at "
          "-100"),
    _loss("binary_cross_entropy_with_logits", "binary cross entropy of sigmoid(x)"),
    _loss("kl_div", "target*(log(target) - input) ('batchmean' too; log_target=)",
          keywords=("log_target",)),
    _row("cosine_similarity", "tensor", "loss", "x1.x2/(|x1||x2|) along dim (dim=1, eps=1e-8)",
         (2, 2), ("dim", "eps"), reals=("eps",)),
)

MORE_SIGNATURES: tuple[dict, ...] = (
    _POINTWISE + _ACTIVATIONS + _REDUCTIONS + _LINALG + _SHAPE + _LIKE + _LOSSES)

MORE_ALIASES = {
    "clip": "clamp", "arctan2": "atan2", "ger": "outer", "inv": "inverse",
    "concat": "cat", "concatenate": "cat", "swapaxes": "transpose", "swapdims": "transpose",
    "expit": "sigmoid",
}
