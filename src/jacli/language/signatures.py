"""The names the language knows: each function's signature, kind and one line of doc.

A ``Signature`` says how a call is read: how many tensor operands, which static parameters
(shapes, dims) follow, which keywords are accepted. What a name *means* (its SymPy and torch
meanings) lives in ``backends.functions``, one row per signature here; a test checks that
both tables name the same functions. Pure data: no SymPy, no torch, so parsing is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Signature:
    """One function of the language, as the parser reads a call to it.

    ``tensors``: (min, max) tensor operands; ``(-1, -1)`` takes one list of tensors
    (``stack([a, b])``). ``params``: names of the static (int) parameters after them, in
    positional order; a leading ``*`` collects the rest (``*shape``). ``keywords``: static
    keyword arguments accepted (and ignored when not in ``params``, like ``dtype``).
    ``reals``/``strings``: the params that take a number (``beta=2``, read as an exact
    ``Fraction``) or a string (``reduction='sum'``) instead of an int. ``condition``: the
    position of an operand that is a comparison (``where(x > 0, x, 0)``), -1 if none.
    ``tuple_out``: the call returns a tuple (``chunk``, ``max(a, dim)``): only ``[i]`` (and
    ``.values``) of it is a value. ``group``: the heading ``jacli functions`` lists it under.
    """

    name: str
    kind: str  # elementwise | gradient | reduction | product | shape | constructor
    doc: str
    tensors: tuple[int, int] = (1, 1)
    params: tuple[str, ...] = ()
    keywords: frozenset[str] = field(default_factory=frozenset)
    reals: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()
    condition: int = -1
    tuple_out: bool = False
    group: str = ""


_DIMS = frozenset({"dim", "keepdim", "axis"})
_CTOR = frozenset({"requires_grad", "dtype", "device"})

SIGNATURES: tuple[Signature, ...] = (
    # --- elementwise ---------------------------------------------------------
    Signature("sin", "elementwise", "sine"),
    Signature("cos", "elementwise", "cosine"),
    Signature("tan", "elementwise", "tangent"),
    Signature("asin", "elementwise", "inverse sine"),
    Signature("acos", "elementwise", "inverse cosine"),
    Signature("atan", "elementwise", "inverse tangent"),
    Signature("sinh", "elementwise", "hyperbolic sine"),
    Signature("cosh", "elementwise", "hyperbolic cosine"),
    Signature("tanh", "elementwise", "hyperbolic tangent"),
    Signature("asinh", "elementwise", "inverse hyperbolic sine"),
    Signature("acosh", "elementwise", "inverse hyperbolic cosine"),
    Signature("atanh", "elementwise", "inverse hyperbolic tangent"),
    Signature("exp", "elementwise", "e to the x"),
    Signature("log", "elementwise", "natural logarithm"),
    Signature("log2", "elementwise", "base-2 logarithm"),
    Signature("log10", "elementwise", "base-10 logarithm"),
    Signature("sqrt", "elementwise", "square root"),
    Signature("abs", "elementwise", "absolute value; d/dx = sign(x), 0 at 0"),
    Signature("square", "elementwise", "x**2"),
    Signature("sigmoid", "elementwise", "logistic 1/(1+exp(-x))"),
    Signature("relu", "elementwise", "max(x, 0); derivative 0 at 0 (torch's convention)"),
    Signature("softplus", "elementwise", "log(1 + exp(beta*x))/beta (beta=1); x where "
              "beta*x > threshold (20; in the formula when given)", params=("beta", "threshold"),
              keywords=frozenset({"beta", "threshold"}), reals=frozenset({"beta", "threshold"})),
    Signature("pow", "elementwise", "x**p", tensors=(2, 2)),
    Signature("maximum", "elementwise", "elementwise max (also max(a, b)); a tie splits it",
              tensors=(2, 2)),
    Signature("minimum", "elementwise", "elementwise min (also min(a, b)); a tie splits it",
              tensors=(2, 2)),
    # --- gradient ------------------------------------------------------------
    Signature("detach", "gradient", "value flows, derivative is zero"),
    # --- reduction -----------------------------------------------------------
    Signature("sum", "reduction", "sum of elements (dim=, keepdim=)", params=("dim",),
              keywords=_DIMS),
    Signature("mean", "reduction", "mean of elements (dim=, keepdim=)", params=("dim",),
              keywords=_DIMS),
    Signature("prod", "reduction", "product of elements (dim=, keepdim=)", params=("dim",),
              keywords=_DIMS),
    Signature("norm", "reduction", "p-norm (p=2, 'fro', 1, inf...; dim=, keepdim=)",
              params=("p", "dim", "keepdim"), keywords=_DIMS | {"p"},
              reals=frozenset({"p"}), strings=frozenset({"p"})),
    Signature("amax", "reduction", "largest element (dim=, keepdim=); a tie splits the gradient "
              "evenly; max(a) is amax(a)", params=("dim",), keywords=_DIMS),
    Signature("amin", "reduction", "smallest element (dim=, keepdim=); a tie splits the "
              "gradient evenly; min(a) is amin(a)", params=("dim",), keywords=_DIMS),
    # --- product -------------------------------------------------------------
    Signature("dot", "product", "inner product of two 1-D tensors", tensors=(2, 2)),
    Signature("matmul", "product", "matrix product, same as @", tensors=(2, 2)),
    Signature("mm", "product", "matrix-matrix product", tensors=(2, 2)),
    Signature("mv", "product", "matrix-vector product", tensors=(2, 2)),
    # --- shape ---------------------------------------------------------------
    Signature("view", "shape", "same elements, new shape (-1 infers)", params=("*shape",)),
    Signature("reshape", "shape", "same elements, new shape", params=("*shape",)),
    Signature("flatten", "shape", "dims start_dim..end_dim as one (all by default)",
              params=("start_dim", "end_dim"), keywords=frozenset({"start_dim", "end_dim"})),
    Signature("T", "shape", "transpose (reverse all axes)"),
    Signature("t", "shape", "transpose of a 2-D tensor"),
    Signature("transpose", "shape", "swap two axes", params=("dim0", "dim1")),
    Signature("unsqueeze", "shape", "insert an axis of length 1", params=("dim",)),
    Signature("squeeze", "shape", "drop axes of length 1 (all, or dim= / a tuple of dims)",
              params=("dim",), keywords=frozenset({"dim"})),
    Signature("clone", "shape", "a copy: a write into it leaves the original alone"),
    Signature("stack", "shape", "stack tensors along a new axis", tensors=(-1, -1), params=("dim",),
              keywords=_DIMS),
    Signature("cat", "shape", "concatenate tensors along an axis", tensors=(-1, -1),
              params=("dim",), keywords=_DIMS),
    # --- constructor ---------------------------------------------------------
    Signature("zeros", "constructor", "a tensor of zeros", tensors=(0, 0), params=("*shape",),
              keywords=_CTOR),
    Signature("ones", "constructor", "a tensor of ones", tensors=(0, 0), params=("*shape",),
              keywords=_CTOR),
    Signature("eye", "constructor", "identity matrix", tensors=(0, 0), params=("n", "m"),
              keywords=_CTOR),
    *(Signature(name, "constructor", "random values: every element must be written before it "
                "is read", tensors=(0, 0), params=("*shape",), keywords=_CTOR)
      for name in ("randn", "rand", "empty")),
    Signature("tensor", "constructor", "a tensor from data; like torch.tensor it copies (no "
              "gradient)", keywords=_CTOR),
)

# PyTorch's wider vocabulary (activations, losses, linear algebra, more shapes): its own
# module, appended here so that one table holds every name
from jacli.language.vocabulary import MORE_ALIASES, MORE_SIGNATURES  # noqa: E402

SIGNATURES = SIGNATURES + tuple(Signature(**fields) for fields in MORE_SIGNATURES)

ALIASES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "absolute": "abs", "Tensor": "tensor",
    "FloatTensor": "tensor", "DoubleTensor": "tensor", "as_tensor": "tensor",
    # torch.max(a) is amax(a) and torch.max(a, b) is maximum(a, b): calls.CallReader.minmax
    # picks by the operands (and refuses torch.max(a, dim), which returns values and indices)
    "max": "amax", "min": "amin",
    **MORE_ALIASES,
}

TABLE: dict[str, Signature] = {s.name: s for s in SIGNATURES}


def lookup(name: str) -> Signature | None:
    """The signature for a function name or alias, or ``None``."""
    return TABLE.get(ALIASES.get(name, name))


def known_names() -> list[str]:
    """Every name a user may call, for "did you mean" hints and the README."""
    return sorted(set(TABLE) | set(ALIASES))


def shape_arg(shape) -> tuple[int, ...]:
    """``view(2, 2)`` and ``view((2, 2))`` both mean shape (2, 2)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


GROUPS = ("pointwise", "activation", "reduction", "linear algebra", "shape", "loss",
          "constructor", "gradient")
_ACTIVATIONS = {"relu", "sigmoid", "softplus"}
_HIDDEN = {"dtype", "device", "requires_grad", "axis", "pick"}
# rows whose PyTorch spelling is not their row name
_SHOWN = {"linalg_norm": "linalg.norm", "linalg_cross": "linalg.cross",
          "vector_norm": "linalg.vector_norm", "max_dim": "max", "min_dim": "min"}


def group_of(s: Signature) -> str:
    """The heading ``jacli functions`` lists ``s`` under."""
    if s.group:
        return s.group
    if s.name in _ACTIVATIONS:
        return "activation"
    return {"elementwise": "pointwise", "product": "linear algebra"}.get(s.kind, s.kind)


def call_text(s: Signature) -> str:
    """How ``s`` is called: ``clamp(x, min, max)``, ``mse_loss(x, y, reduction=)``."""
    low, high = s.tensors
    if low == -1:
        operands = ["[tensors]"]
    elif high > 3:
        operands = ["*tensors"]
    else:
        names = iter("xyz")
        operands = ["condition" if i == s.condition else next(names) + ("?" if i >= low else "")
                    for i in range(high)]
    if "target" in s.params:  # class indices, or (cross_entropy) a tensor of probabilities
        operands = operands[:1]
    if s.name == "einsum":
        operands = ["equation"] + operands
    params = [p for p in s.params if p != "equation"]
    extra = sorted(k + "=" for k in s.keywords - set(s.params) - _HIDDEN)
    name = _SHOWN.get(s.name, s.name)
    return f"{name}({', '.join(operands + params + extra)})"


def listing() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every function by group: (group, [(call text, doc with its aliases)])."""
    out = []
    for group in GROUPS:
        rows = []
        for s in SIGNATURES:
            if group_of(s) != group:
                continue
            aliases = sorted(a for a, n in ALIASES.items() if n == s.name)
            rows.append((call_text(s), s.doc + (f" (also {', '.join(aliases)})" if aliases
                                                else "")))
        out.append((group, rows))
    return out
