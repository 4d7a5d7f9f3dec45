"""Meanings of the wider vocabulary's pointwise functions and activations (see
``language.vocabulary``): SymPy on object arrays beside the torch function itself.

Kinks follow PyTorch's backward formulas, written as the condition of a ``Piecewise`` so the
derivative SymPy takes is PyTorch's at the kink too: ``leaky_relu`` uses ``x > 0`` (slope
``negative_slope`` at 0), ``hardtanh`` is flat at its bounds, ``clamp`` passes the gradient
at its bounds, ``hardswish`` takes the middle branch at -3 and 3.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from jacli.backends.lazy import Later, torch, sympy as sp, object_arrays as oa, sym_extra as sx

# exact, as SymPy ``Rational``s where they are used (the table is read without SymPy)
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"


def fl(v):
    """A static number for torch: a Python float (ints and None unchanged)."""
    return float(v) if isinstance(v, Fraction) else v


def _pw(*pieces):
    return sp.Piecewise(*pieces)


def clamp(x, min=None, max=None):
    """torch.clamp: min(max(x, min), max); gradient 1 where min <= x <= max."""
    if min is not None and max is not None and min > max:
        return max
    pieces = ([(min, x < min)] if min is not None else []) + \
             ([(max, x > max)] if max is not None else [])
    return _pw(*pieces, (x, True)) if pieces else x


def hardtanh(x, min_val=-1, max_val=1):
    """Flat at the bounds: gradient 0 where x <= min_val or x >= max_val (PyTorch)."""
    return _pw((min_val, x <= min_val), (max_val, x >= max_val), (x, True))


def softplus(x, beta=1, threshold=None):
    """log(1 + exp(beta*x))/beta; torch returns x itself where beta*x > threshold (20). That
    branch is written only when threshold= is given: past 20 the two differ by < e^-20, and
    the default formula stays the one a person writes (and typesets)."""
    smooth = sp.log(1 + sp.exp(beta * x)) / beta
    return smooth if threshold is None else _pw((x, beta * x > threshold), (smooth, True))


def gelu(x, approximate="none"):
    if approximate == "tanh":
        inner = sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 1000000) * x**3)
        return x * (1 + sp.tanh(inner)) / 2
    if approximate != "none":
        raise RuntimeError("approximate argument must be either none or tanh.")
    return x * (1 + sp.erf(x / sp.sqrt(2))) / 2


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


_SCALAR = {
    "expm1": lambda x: sp.exp(x) - 1,
    "log1p": lambda x: sp.log(1 + x),
    "exp2": lambda x: 2**x,
    "erf": lambda x: sp.erf(x), "erfc": lambda x: sp.erfc(x),
    "erfinv": lambda x: sp.erfinv(x),
    "sinc": lambda x: sx.sinc(x), "sign": lambda x: sx.sign(x),
    "floor": lambda x: sx.floor(x), "ceil": lambda x: sx.ceil(x),
    "round": lambda x: sx.round_even(x), "trunc": lambda x: sx.trunc(x),
    "frac": lambda x: x - sx.trunc(x),
    "reciprocal": lambda x: 1 / x,
    "rsqrt": lambda x: 1 / sp.sqrt(x),
    "clamp": clamp,
    "leaky_relu": lambda x, negative_slope=None: _pw(
        (x, x > 0), ((sp.Rational(1, 100) if negative_slope is None else negative_slope) * x,
                     True)),
    "elu": lambda x, alpha=1: _pw((x, x > 0), (alpha * (sp.exp(x) - 1), True)),
    "selu": lambda x: sp.Rational(SELU_SCALE) * _pw(
        (x, x > 0), (sp.Rational(SELU_ALPHA) * (sp.exp(x) - 1), True)),
    "celu": lambda x, alpha=1: _pw((x, x > 0), (alpha * (sp.exp(x / alpha) - 1), True)),
    "gelu": gelu,
    "silu": lambda x: x * _sigmoid(x),
    "mish": lambda x: x * sp.tanh(sp.log(1 + sp.exp(x))),
    "hardtanh": hardtanh,
    "relu6": lambda x: hardtanh(x, 0, 6),
    # hardsigmoid_backward: 1/6 strictly inside (-3, 3); hardswish_backward: x/3 + 1/2
    # strictly inside, 0 at and below -3, 1 at and above 3 (measured on torch 2.13)
    "hardsigmoid": lambda x: _pw((0, x <= -3), (1, x >= 3), (x / 6 + sp.S.Half, True)),
    "hardswish": lambda x: _pw((0, x <= -3), (x * (x + 3) / 6, x < 3), (x, True)),
    "softsign": lambda x: x / (1 + sp.Abs(x)),
    "logsigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
    "tanhshrink": lambda x: x - sp.tanh(x),
    "softplus": softplus,
}

# torch's meaning of each: the function PyTorch code calls, by name, so that lowering calls
# it directly (static numbers are the parser's ``Real`` floats, which torch takes as they are)
_TORCH = {
    **{n: n for n in ("expm1", "log1p", "exp2", "erf", "erfc", "erfinv", "sinc", "sign",
                          "floor", "ceil", "round", "trunc", "frac", "reciprocal", "rsqrt",
                          "clamp", "selu", "celu")},
    # torch's own hardsigmoid backward multiplies by 1/6 rounded to float32 (1.5e-8 off);
    # relu6(x + 3)/6 is the same function and the same conventions at -3 and 3, in float64
    "hardsigmoid": lambda B, x: torch.nn.functional.relu6(x + 3) / 6,
    **{n: "nn.functional." + n for n in ("leaky_relu", "elu", "gelu", "silu", "mish", "hardtanh", "relu6",
                          "hardswish", "softsign", "logsigmoid", "tanhshrink",
                          "softplus")},
}

_DOMAINS = {"log1p": (-0.5, 2.0), "erfinv": (-0.9, 0.9), "reciprocal": (0.5, 2.0),
            "rsqrt": (0.2, 3.0), "hardtanh": (-1.5, 1.5), "relu6": (-1.0, 7.0),
            "hardsigmoid": (-4.0, 4.0), "hardswish": (-4.0, 4.0)}


def _where(B, c, x, y):
    pick = np.frompyfunc(lambda ci, xi, yi: _pw((xi, ci), (yi, True)), 3, 1)
    return oa.obj(oa.broadcasting(lambda a, b: pick(c, a, b))(x, y))


def _binary(f):
    return oa.binary_elementwise(f)


def _lerp(B, a, b, w):
    return oa.obj(oa.broadcasting(np.add)(a, oa.broadcasting(np.multiply)(w, b - a)))


def _meanings(Meaning) -> dict:
    """The rows, built with ``functions.Meaning`` (passed in: no import cycle)."""
    rows = {name: Meaning(Later(lambda f=f: sx.lift(f)), _TORCH[name],
                          _DOMAINS.get(name, (-2.0, 2.0)))
            for name, f in _SCALAR.items()}
    rows.update({
        "atan2": Meaning(Later(lambda: _binary(sp.atan2)), lambda B, y, x: torch.atan2(y, x)),
        "hypot": Meaning(Later(lambda: _binary(lambda x, y: sp.sqrt(x**2 + y**2))),
                         lambda B, x, y: torch.hypot(x, y)),
        "lerp": Meaning(_lerp, lambda B, a, b, w: torch.lerp(a, b, w)),
        "where": Meaning(_where, lambda B, c, x, y: torch.where(c, x, y)),
    })
    return rows
