"""Autograd against SymPy's exact values, entry by entry, with a reason for each mismatch.

Tolerances (documented in the README): an entry agrees when
``|numeric - exact| <= ATOL + RTOL * |exact|`` with (RTOL, ATOL) = (1e-9, 1e-12) in float64
and (1e-4, 1e-5) in float32. Non-finite values agree only with their kind: an infinity with an
infinity of the same sign (SymPy's unsigned ``zoo`` matches either), NaN with NaN. A complex
exact value never agrees: the function has left the real numbers, PyTorch says NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jacli.result import Check
from jacli.symbolic import classify

TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (1e-4, 1e-5)}


@dataclass(frozen=True)
class Entry:
    """One compared quantity: its label, autograd's float, and the classified exact value."""

    label: str
    numeric: float
    exact: float | None
    kind: str  # real | inf | zoo | nan | complex | symbolic
    expr: object  # the exact SymPy value; printed only when a notice needs it
    derivative: bool = True  # False for output values (no chain rule involved)

    @property
    def exact_text(self) -> str:
        from jacli.pack import text

        return text(self.expr)


def compare(entries: list[Entry], dtype: str) -> tuple[Check, list[str]]:
    """A ``Check`` over ``entries`` and the notices that explain each disagreement."""
    rtol, atol = TOLERANCES[dtype]
    worst, worst_diff, compared = None, 0.0, 0
    bad: list[str] = []
    notices: list[str] = []
    for e in entries:
        verdict = _agree(e, rtol, atol)
        if verdict is None:
            notices.append(f"{e.label}: the exact value {e.exact_text} could not be evaluated "
                           "in time to compare; autograd gives " + _num(e.numeric))
            continue
        compared += 1
        if e.kind == "real" and math.isfinite(e.numeric) and math.isfinite(e.exact):
            diff = abs(e.numeric - e.exact)
            if diff > worst_diff or worst is None:
                worst, worst_diff = e.label, diff
        if not verdict:
            bad.append(e.label)
            notices.append(explain(e))
    agree = None if compared == 0 else not bad
    ulps = _max_ulps(entries) if dtype == "float32" else None
    check = Check(agree=agree, max_abs_diff=worst_diff if compared else None, compared=compared,
                  tolerance=f"rtol {rtol:g}, atol {atol:g}",
                  worst=bad[0] if bad else worst, disagreements=tuple(bad), max_ulps=ulps)
    return check, notices


def _max_ulps(entries: list[Entry]) -> float | None:
    """Worst |numeric − exact| in float32 units in the last place of the exact value."""
    import numpy as np

    worst = None
    for e in entries:
        if e.kind == "real" and e.exact is not None and math.isfinite(e.exact) \
                and math.isfinite(e.numeric) and abs(e.exact) < 3e38:
            ulp = float(np.spacing(np.float32(abs(e.exact))))
            ulps = abs(e.numeric - e.exact) / ulp
            worst = ulps if worst is None else max(worst, ulps)
    return worst


def _agree(e: Entry, rtol: float, atol: float) -> bool | None:
    n = e.numeric
    if e.kind == "symbolic":
        return None
    if e.kind == "complex":
        return False
    if e.kind == "nan":
        return math.isnan(n)
    if e.kind == "zoo":
        return math.isinf(n)
    if math.isnan(n) or e.exact is None:
        return False
    if math.isinf(e.exact) or math.isinf(n):
        return e.exact == n
    return abs(n - e.exact) <= atol + rtol * abs(e.exact)


def explain(e: Entry) -> str:
    """Why autograd and SymPy part ways at this entry, in words a user can act on."""
    got = f"{e.label}: autograd gives {_num(e.numeric)}, SymPy gives {e.exact_text}"
    if e.kind == "complex":
        return got + " — the function leaves the real numbers here (e.g. sqrt or log of a " \
                     "negative number); PyTorch computes in reals and says nan"
    if e.kind in ("nan", "zoo") and not math.isfinite(e.numeric):
        return got + " — both sides say the value is undefined here, in different ways " \
                     "(SymPy: zoo is complex infinity, nan is indeterminate; torch: nan or inf)"
    if e.kind in ("nan", "zoo") and math.isfinite(e.numeric):
        return got + " — the derivative is undefined at this point; PyTorch returns the value " \
                     "of its convention for this operation"
    if math.isnan(e.numeric) and not e.derivative:
        return got + " — PyTorch evaluates the formula as written and meets 0/0, 0·inf or " \
                     "inf-inf; SymPy simplified it first (x/x is 1), so the exact value exists"
    if math.isnan(e.numeric):
        return got + " — autograd met 0/0, 0·inf or inf-inf in the chain rule where the exact " \
                     "derivative is finite (a removable singularity, or a form SymPy simplified " \
                     "away, like x/x)"
    if math.isinf(e.numeric) != (e.exact is not None and math.isinf(e.exact)):
        return got + " — one side overflowed float64"
    return got + " — a difference beyond rounding: float32 rounding, catastrophic " \
                 "cancellation, or a function whose two meanings differ"


def _num(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.17g}"


def compare_fd(check: Check | None, J, fd, outputs: list[str], inputs: list[str]
               ) -> tuple[Check, list[str]]:
    """Autograd's J against central finite differences: an entry disagrees when
    |J − FD| > 10·(FD's error estimate) + 1e-8·(1 + |J|). Folded into ``check``."""
    bad, worst, worst_diff, notices = [], None, 0.0, []
    for i, o in enumerate(outputs):
        for j, x in enumerate(inputs):
            a, f, err = J[i][j], float(fd.J[i, j]), float(fd.error[i, j])
            if not (math.isfinite(a) and math.isfinite(f)):
                continue
            diff = abs(a - f)
            if diff >= worst_diff:
                worst, worst_diff = f"d{o}/d{x}", diff
            if diff > 10 * err + 1e-8 * (1 + abs(a)):
                bad.append(f"d{o}/d{x}")
                notices.append(f"d{o}/d{x}: autograd gives {_num(a)}, finite differences "
                               f"{_num(f)} (± {err:.1g}) — at a kink or discontinuity the "
                               "difference quotient averages both sides; elsewhere this is a bug")
    fd_summary = {"agree": not bad, "max_abs_diff": worst_diff, "worst": worst,
                  "disagreements": bad, "steps": fd.steps, "numeric": fd.J.tolist(),
                  "error_estimate": fd.error.tolist(),
                  "tolerance": "|J − FD| <= 10·estimate + 1e-8·(1 + |J|)"}
    base = check or Check(agree=None, max_abs_diff=None, compared=0, tolerance="")
    agree = (base.agree is not False) and not bad
    return Check(agree=agree, max_abs_diff=base.max_abs_diff, compared=base.compared,
                 tolerance=base.tolerance, worst=base.worst or worst,
                 disagreements=base.disagreements + tuple(bad), max_ulps=base.max_ulps,
                 finite_differences=fd_summary), notices


def entries(num, sym, outputs: list[str], inputs: list[str]) -> list[Entry]:
    """Every quantity both sides computed — values, J, vᵀJ, J u, H v, H — as ``Entry``s.
    ``num``/``sym`` are assemble's Numeric and Symbolic parts."""
    ex = sym.exact
    pairs = [(o, num.value[i], ex["value"][i], False) for i, o in enumerate(outputs)]
    if num.J is not None:
        pairs += [(f"d{o}/d{x}", num.J[i][j], ex["J"][i][j], True)
                  for i, o in enumerate(outputs) for j, x in enumerate(inputs)]
    for key, numbers, fmt in (("vjp", num.vjp, "(vᵀJ)[{x}]"), ("jvp", num.jvp, "(J u)[{x}]"),
                              ("hvp", num.hvp, "(H v)[{x}]")):
        if numbers is not None and key in ex:
            names = outputs if key == "jvp" else inputs
            pairs += [(fmt.format(x=x), numbers[j], ex[key][j], True) for j, x in enumerate(names)]
    if num.H is not None and "H" in ex:
        pairs += [(f"d2y/d{a}d{b}", num.H[i][j], ex["H"][i][j], True)
                  for i, a in enumerate(inputs) for j, b in enumerate(inputs)]
    found = []
    for label, n, e, derivative in pairs:
        value, kind = classify(e)
        found.append(Entry(label, float(n), value, kind, e, derivative))
    return found
