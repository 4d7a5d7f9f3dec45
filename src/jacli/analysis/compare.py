"""Autograd against SymPy's exact values, entry by entry, with a reason for each mismatch.

Tolerances (documented in the README): an entry agrees when
``|numeric - exact| <= ATOL + RTOL * |exact|`` with (RTOL, ATOL) = (1e-9, 1e-12) in float64
and (1e-4, 1e-5) in float32. Non-finite values agree only with their kind: an infinity with an
infinity of the same sign (SymPy's unsigned ``zoo`` matches either), NaN with NaN. A complex
exact value never agrees: the function has left the real numbers, PyTorch says NaN.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from jacli.analysis.entries import SMALL, Entries, Entry
from jacli.analysis.tolerances import TOLERANCES
from jacli.result import Check

_INF = math.inf
_TOLERANCE_TEXT = {k: f"rtol {r:g}, atol {a:g}" for k, (r, a) in TOLERANCES.items()}


def compare(found: Entries, dtype: str) -> tuple[Check, list[str]]:
    """A ``Check`` over every entry of ``found`` and the notices that explain each
    disagreement, in entry order.

    The ordinary entries (exact value a real number, most of them structural zeros) are
    judged as float64 arrays with the same IEEE operations ``_agree`` uses one at a time
    (``_reals``; for a few entries, in Python floats: ``_reals_small``); the few special
    kinds (nan, zoo, inf, complex, symbolic) go through ``_agree``.
    """
    rtol, atol = TOLERANCES[dtype]
    small = found.size <= SMALL and dtype == "float64"
    real_bad, real_count, finite, (worst, worst_diff), ulps = (
        _reals_small if small else _reals)(found, rtol, atol, dtype)
    verdicts = {i: _agree(found.entry(i), rtol, atol) for i in found.special}
    odd = sorted([*real_bad, *(i for i, v in verdicts.items() if v is not True)]) \
        if real_bad or verdicts else []
    bad: list[str] = []
    notices: list[str] = []
    for i in odd:
        e = found.entry(i)
        if verdicts.get(i, False) is None:
            notices.append(f"{e.label}: the exact value {e.exact_text} could not be evaluated "
                           "to compare (too slow, or beyond the float range); autograd gives "
                           + _num(e.numeric))
        else:
            bad.append(e.label)
            notices.append(explain(e))
    compared = real_count + sum(v is not None for v in verdicts.values())
    unmeasured = [i for i in odd if verdicts.get(i, False) is False and not finite[i]]
    max_diff, reason = _unmeasured_diff(found, unmeasured) if unmeasured else (worst_diff, None)
    agree = None if compared == 0 else not bad
    check = Check(agree=agree, max_abs_diff=max_diff if compared else None, compared=compared,
                  tolerance=_TOLERANCE_TEXT[dtype],
                  worst=bad[0] if bad else worst, disagreements=tuple(bad), max_ulps=ulps,
                  max_abs_diff_reason=reason)
    return check, notices


def _reals(found: Entries, rtol: float, atol: float, dtype: str):
    """The real entries judged as float64 arrays: the indices that disagree, how many were
    compared, which are finite on both sides, the worst ``(label, diff)``, float32's ulps."""
    n, x, real = (np.asarray(found.numeric, dtype=np.float64),
                  np.asarray(found.exact, dtype=np.float64), found.real_mask())
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(n - x)
        infinite = np.isinf(x) | np.isinf(n)
        ok = np.where(infinite, x == n, diff <= atol + rtol * np.abs(x)) & ~np.isnan(n)
    finite = real & np.isfinite(n) & np.isfinite(x)
    ulps = _max_ulps(n, x, diff, finite) if dtype == "float32" else None
    return (np.flatnonzero(real & ~ok).tolist(), int(real.sum()), finite,
            _worst(found, diff, finite), ulps)


def _reals_small(found: Entries, rtol: float, atol: float, dtype: str):
    """``_reals`` for a few entries (a small request's J), in Python floats: the same IEEE
    operations one entry at a time, without NumPy's cost per call (float64 only: float32's
    ulps are NumPy's)."""
    bad, finite, worst, worst_diff = [], [], None, -1.0
    special = found.special
    for i, (n, x) in enumerate(zip(found.numeric, found.exact)):
        if special and i in special:
            finite.append(False)
            continue
        diff = abs(n - x)
        tol = atol + rtol * abs(x)
        if diff <= tol < _INF:  # the usual entry: both finite (x is, so tol is; then so are
            finite.append(True)  # diff and n) and within the tolerance: what the general
            if diff > worst_diff:  # branch below concludes, without its four tests
                worst, worst_diff = i, diff
            continue
        if math.isinf(x) or math.isinf(n):
            ok = x == n
        else:
            ok = diff <= atol + rtol * abs(x) and not math.isnan(n)
        if not ok:
            bad.append(i)
        finite.append(math.isfinite(n) and math.isfinite(x))
        if finite[-1] and diff > worst_diff:  # the first of equal maxima, as argmax
            worst, worst_diff = i, diff
    found_worst = (None, 0.0) if worst is None else (found.label(worst), worst_diff)
    return bad, found.size - len(found.special), finite, found_worst, None


def _unmeasured_diff(found: Entries, where: list[int]) -> tuple[float, str]:
    """max |numeric − exact| when some disagreeing entries have no finite difference (a NaN,
    an infinity, a complex or undefined exact value): NaN if one of them is NaN (IEEE:
    |nan − 1| is nan; a complex or undefined exact value counts as NaN), else +inf; and the
    reason, naming the first such entry."""
    diffs = [_diff(found.entry(i)) for i in where]
    worst = math.nan if any(math.isnan(d) for d in diffs) else math.inf
    e = found.entry(where[0])
    more = f" (and {len(where) - 1} more)" if len(where) > 1 else ""
    return worst, (f"{e.label}{more}: autograd gives {_num(e.numeric)}, SymPy gives "
                   f"{e.exact_text}: no finite difference to measure")


def _diff(e: Entry) -> float:
    if e.kind in ("complex", "symbolic", "nan") or e.exact is None:
        return math.nan
    return abs(e.numeric - e.exact)


def _worst(found: Entries, diff: np.ndarray, finite: np.ndarray) -> tuple[str | None, float]:
    """The first entry with the largest |numeric − exact| among the finite real ones."""
    where = np.flatnonzero(finite)
    if where.size == 0:
        return None, 0.0
    i = int(where[np.argmax(diff[where])])  # argmax: the first of equal maxima, like a scan
    return found.label(i), float(diff[i])


def _max_ulps(n: np.ndarray, x: np.ndarray, diff: np.ndarray, finite: np.ndarray
              ) -> float | None:
    """Worst |numeric − exact| in float32 units in the last place of the exact value."""
    use = finite & (np.abs(x) < 3e38)
    if not use.any():
        return None
    ulp = np.spacing(np.abs(x[use]).astype(np.float32)).astype(np.float64)
    return float(np.max(diff[use] / ulp))


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
        what = "derivative" if e.derivative else "value (e.g. atan2(0, 0))"
        return got + f" — the {what} is undefined at this point; PyTorch returns the value " \
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


def compare_fd(check: Check | None, J, fd, outputs: list[str], inputs: list[str],
               dtype: str = "float64") -> tuple[Check, list[str]]:
    """Autograd's J against central finite differences: an entry disagrees when |J − FD| >
    10·(FD's error estimate) + 1e-8·(1 + |J|), in float32 + ``TOLERANCES``' float32 atol +
    rtol·|J| (autograd's J carries float32 round-off). Entries not finite on either side are
    not compared. Where the program stops gradients (``fd.stops``) a difference is
    ``explained``, not a disagreement. Adds ``finite_differences`` to ``check``; ``all_agree``
    is false when either comparison disagrees."""
    from jacli.analysis.finite_differences import FD_KINK, FD_STOP  # torch: numbers exist
    bad, explained, skipped, worst, worst_diff, notices = [], [], [], None, 0.0, []
    rtol, atol = TOLERANCES["float32"] if dtype == "float32" else (1e-8, 1e-8)
    for i, o in enumerate(outputs):
        for j, x in enumerate(inputs):
            a, f, err = J[i][j], float(fd.J[i, j]), float(fd.error[i, j])
            if not (math.isfinite(a) and math.isfinite(f)):
                skipped.append(f"d{o}/d{x}")
                continue
            diff = abs(a - f)
            if diff >= worst_diff:
                worst, worst_diff = f"d{o}/d{x}", diff
            if diff > 10 * err + atol + rtol * abs(a):
                (explained if fd.stops else bad).append(f"d{o}/d{x}")
                why = FD_STOP if fd.stops else FD_KINK
                notices.append(f"d{o}/d{x}: autograd gives {_num(a)}, finite differences "
                               f"{_num(f)} (± {err:.1g}) — {why}")
    compared = len(outputs) * len(inputs) - len(skipped)
    fd_summary = {"agree": not bad if compared else None,
                  "max_abs_diff": worst_diff if compared else None, "worst": worst,
                  "disagreements": bad, "steps": fd.steps, "numeric": fd.J.tolist(),
                  "error_estimate": fd.error.tolist(), "tolerance": "|J − FD| <= 10·estimate + "
                  + (f"{atol:g} + {rtol:g}·|J|" if dtype == "float32" else "1e-8·(1 + |J|)"),
                  "compared": compared, "not_compared": skipped, "explained": explained}
    base = check or Check(agree=None, max_abs_diff=None, compared=0, tolerance="")
    overall = None if base.agree is None and not compared else (base.agree is not False
                                                                and not bad)
    return replace(base, all_agree=overall, finite_differences=fd_summary), notices
