"""What the pictures (``render/plot.py``) draw, as arrays: the numeric J (H for ``hessian``)
with its exact zeros and tensor groups, vᵀJ / J u as a vector, and for ``check`` the errors
|autograd − SymPy| and |autograd − FD|.

Pure (NumPy only, no matplotlib), so tests compare exactly what is drawn with the Result. Large
matrices are block-pooled (max |entry| per block, its sign kept) and the title says so; no row
or column is ever dropped. The exact values are SymPy's printed strings: they are read by a
whitelist walk of Python's AST (numbers, + − × ÷ **, a few functions), never evaluated.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, replace

import numpy as np

from jacli.result import Result
from jacli.result.labels import derivative_text

POOL_FROM = 1_000_000  # entries: from here on the picture is block-pooled
POOL_TO = 500  # at most this many blocks per axis


@dataclass(frozen=True)
class Heat:
    """What one heat map draws: ``values`` (pooled when large), ``zero`` (exact zeros: from
    SymPy's exact values when given, else numeric == 0), labels and their groups
    ``(name, start, stop)`` in drawn cells, and ``note`` (the pooling, said in the title)."""

    name: str
    values: np.ndarray
    zero: np.ndarray
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    row_groups: tuple[tuple[str, int, int], ...]
    col_groups: tuple[tuple[str, int, int], ...]
    shape: tuple[int, int]  # before pooling
    nonzero: int  # entries not exactly zero, before pooling
    note: str = ""
    zeros_from: str = "exact"  # "exact": SymPy's exact 0; "numeric": autograd's 0.0


def heat_data(result: Result, which: str | None = None) -> Heat | None:
    """The heat map of J (``hessian``: H), or of ``which`` ("J" or "H"); None when that
    matrix has no numbers (not computed)."""
    which = which or ("H" if result.command == "hessian" else "J")
    matrix = result.hessian if which == "H" else result.jacobian
    if matrix is None or matrix.numeric is None:
        return None
    values = np.asarray(matrix.numeric, dtype=float).reshape(len(matrix.numeric), -1)
    zero = exact_zeros(matrix.exact, values)
    rows = result.inputs if which == "H" else result.outputs
    title = f"{which} = " + derivative_text(result.output_label, result.inputs, 2 if which == "H" else 1)
    heat = _heat(title, values, zero,
                 tuple(rows), tuple(result.inputs))
    return heat if matrix.exact is not None else replace(heat, zeros_from="numeric")


def exact_zeros(exact, values: np.ndarray) -> np.ndarray:
    """Structural zeros: SymPy's exact "0" where the exact values exist, else numeric == 0."""
    if exact is None:
        return values == 0
    return np.array([[s == "0" for s in row] for row in exact], dtype=bool).reshape(values.shape)


def _heat(name: str, values, zero, rows, cols) -> Heat:
    m, n = values.shape
    nonzero = int((~zero).sum())
    note = ""
    br = bc = 1
    if m * n >= POOL_FROM:
        br, bc = -(-m // POOL_TO), -(-n // POOL_TO)
        values, zero = pool(values, br, bc), pool_all(zero, br, bc)
        note = (f"downsampled {m}×{n} → {values.shape[0]}×{values.shape[1]} by max-|·| "
                f"pooling ({br}×{bc} blocks)")
    return Heat(name, values, zero, rows, cols, groups(rows, br), groups(cols, bc),
                (m, n), nonzero, note)


def pool(a: np.ndarray, br: int, bc: int) -> np.ndarray:
    """Each ``br``×``bc`` block (the last ones may be partial) → its entry of largest
    |value|, sign kept; a NaN anywhere in a block wins (it must not be hidden)."""
    b = _blocks(np.asarray(a, dtype=float), br, bc, np.nan)
    mag = np.where(np.isnan(b), -1.0, np.abs(b))  # padding and NaN never win on size
    flat = b.reshape(*b.shape[:2], -1)
    best = np.take_along_axis(flat, mag.reshape(flat.shape).argmax(-1)[..., None], -1)[..., 0]
    real_nan = _blocks(np.isnan(a), br, bc, False).reshape(flat.shape).any(-1)
    return np.where(real_nan, np.nan, best)


def pool_all(mask: np.ndarray, br: int, bc: int) -> np.ndarray:
    """A block is an exact zero only when every entry in it is."""
    return _blocks(mask, br, bc, True).reshape(*_pooled(mask.shape, br, bc), -1).all(-1)


def _pooled(shape, br, bc):
    return -(-shape[0] // br), -(-shape[1] // bc)


def _blocks(a: np.ndarray, br: int, bc: int, fill) -> np.ndarray:
    """``a`` padded with ``fill`` to whole blocks, as (block row, block col, br, bc)."""
    M, N = _pooled(a.shape, br, bc)
    padded = np.full((M * br, N * bc), fill, dtype=a.dtype)
    padded[:a.shape[0], :a.shape[1]] = a
    return padded.reshape(M, br, N, bc).transpose(0, 2, 1, 3)


def groups(labels, block: int = 1) -> tuple[tuple[str, int, int], ...]:
    """Consecutive labels of one tensor (``a[0,1]`` → ``a``) as (name, start, stop), in
    drawn cells (``block`` labels per cell when pooled)."""
    out: list[list] = []
    for i, label in enumerate(labels):
        base = label.split("[", 1)[0]
        if out and out[-1][0] == base:
            out[-1][2] = i + 1
        else:
            out.append([base, i, i + 1])
    return tuple((name, a // block, -(-b // block)) for name, a, b in out)


# -- the exact values, read without evaluating ------------------------------------------------
_FUNCS = ("sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp log sqrt erf Abs "
          "sign").split()
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def exact_float(text: str) -> float:
    """SymPy's printed exact value as the nearest float, computed with mpmath (SymPy's own
    arbitrary-precision library) at 40 digits, so |autograd − SymPy| is not our rounding;
    NaN when the text is outside the small whitelist (the picture then says "not
    comparable" rather than guessing)."""
    import mpmath

    try:
        with mpmath.workdps(40):
            value = _walk(ast.parse(text, mode="eval").body, mpmath)
            return float(value) if isinstance(value, mpmath.mpf) else math.nan
    except (SyntaxError, ValueError, ArithmeticError, TypeError, RecursionError, _Unknown):
        return math.nan


class _Unknown(Exception):
    pass


def _walk(node, mp):
    """A whitelist walk: numbers (as mpf: no unbounded integers), pi, E, oo, nan, + − × ÷ **
    and one-argument functions by name; anything else is ``_Unknown``."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return mp.mpf(node.value)
    if isinstance(node, ast.Name) and node.id in ("pi", "E", "oo", "nan"):
        return {"pi": mp.pi, "E": mp.e, "oo": mp.inf, "nan": mp.nan}[node.id] + 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _walk(node.operand, mp)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_walk(node.left, mp), _walk(node.right, mp))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS and len(node.args) == 1 and not node.keywords):
        name = {"Abs": "fabs"}.get(node.func.id, node.func.id)
        return getattr(mp, name)(_walk(node.args[0], mp))
    raise _Unknown


def errors(result: Result) -> tuple[Heat | None, Heat | None]:
    """``check``'s error maps: |autograd − SymPy| (None without exact values) and
    |autograd − FD| (None without finite differences). NaN: not comparable."""
    J, check = result.jacobian, result.check
    if J is None or J.numeric is None:
        return None, None
    numeric = np.asarray(J.numeric, dtype=float).reshape(len(J.numeric), -1)
    rows, cols = tuple(result.outputs), tuple(result.inputs)
    sym = fd = None
    if J.exact is not None:
        exact = np.array([[exact_float(s) for s in row] for row in J.exact]).reshape(numeric.shape)
        d = np.abs(numeric - exact)
        sym = _heat("|autograd − SymPy|", d, d == 0, rows, cols)
    table = (check.finite_differences or {}).get("numeric") if check else None
    if table is not None:
        d = np.abs(numeric - np.asarray(table, dtype=float).reshape(numeric.shape))
        fd = _heat("|autograd − finite differences|", d, d == 0, rows, cols)
    return sym, fd


def bars(result: Result):
    """The vector to draw as bars: (title, values, labels, along), or None. ``along`` is the
    heat map's axis it runs along: vᵀJ (vjp, grad) the columns, J u the rows (outputs), H v
    the rows of H."""
    if result.vjp is not None and result.vjp.numeric is not None:
        title = ("∇y: what y.backward() leaves in .grad" if result.command == "grad"
                 else "vᵀJ: what y.backward(v) leaves in .grad")
        return title, np.asarray(result.vjp.numeric, float), tuple(result.inputs), "cols"
    if result.jvp is not None and result.jvp.numeric is not None:
        return "J u", np.asarray(result.jvp.numeric, float), tuple(result.outputs), "rows"
    if result.hvp is not None and result.hvp.numeric is not None:
        return "H v", np.asarray(result.hvp.numeric, float), tuple(result.inputs), "rows"
    return None
