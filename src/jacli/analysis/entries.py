"""The quantities both sides computed, flat in report order (``Entries``), for ``compare``.

Each entry pairs autograd's float with SymPy's exact value, classified once (``classify``:
real, or one of the special kinds). A few entries (a small request's value and J) are kept
as Python lists and judged one by one; more are float64 arrays.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from jacli.backends.symbolic import classify, rational_float

SMALL = 64  # entries up to which Python floats judge faster than NumPy's cost per call


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
        from jacli.analysis.pack import text

        return text(self.expr)


class Entries:
    """Every quantity both sides computed, flat in report order: the output values, then J,
    vᵀJ, J u, H v and H, each row-major. ``numeric``/``exact`` hold k floats each (lists up to
    ``SMALL`` entries, float64 arrays past it: ``finish``); ``special`` maps the index of each entry whose exact kind is not "real" (see
    ``classify``) to its classified value and kind (``exact`` is 0 there). Labels and
    ``Entry`` objects are made only for the entries a report names."""

    def __init__(self) -> None:
        self.numeric_parts: list = []  # per block: a list of floats, or an array (large)
        self.exact_parts: list[list[float]] = []
        self.numeric = self.exact = []  # the parts joined, by finish()
        self.exprs: list = []  # flat SymPy values, parallel to numeric/exact
        self.special: dict[int, tuple[float | None, str]] = {}
        self.blocks: list[tuple[int, Callable[[int], str], bool]] = []  # (start, label, deriv)
        self.size = 0
        self.seen: dict = {}  # expression → classify(expression): J repeats exact values

    def classify(self, e) -> tuple[float | None, str]:
        """``classify(e)``, once per distinct value (each costs an evalf at 30 digits)."""
        found = self.seen.get(e)
        if found is None:
            found = self.seen[e] = classify(e)
        return found

    def add(self, numbers, exprs: list, label: Callable[[int], str], derivative: bool) -> None:
        """Append a block: ``numbers`` (floats, flat or rows) against ``exprs`` (same layout)."""
        flat = [e for row in exprs for e in row] if exprs and isinstance(exprs[0], list) else exprs
        numeric = _floats(numbers) if len(flat) <= SMALL else np.asarray(
            numbers, dtype=np.float64).reshape(-1)
        if len(numeric) != len(flat):  # the two sides must line up entry for entry
            raise ValueError(f"{len(numeric)} numbers against {len(flat)} exact values")
        exact, zero = [0.0] * len(flat), sp.S.Zero
        # a few values are classified as they come: hashing each to find a repeat cost
        # more than the repeats it found (a small request's values are rarely equal)
        known = self.classify if len(flat) > SMALL else classify
        for k, e in enumerate(flat):
            if e.is_Rational:  # most entries: a float at once, not looked up by SymPy's hash
                if e is not zero:  # (a structural zero of a sparse J is 0.0 already)
                    exact[k] = rational_float(e)
                continue
            value, kind = known(e)
            if kind == "real":
                exact[k] = value
            else:
                self.special[self.size + k] = (value, kind)
        self.blocks.append((self.size, label, derivative))
        self.numeric_parts.append(numeric)
        self.exact_parts.append(exact)
        self.exprs.extend(flat)
        self.size += len(flat)

    def finish(self) -> Entries:
        """The blocks joined: Python lists of floats up to ``SMALL`` entries (judged one by
        one, ``_reals_small``), float64 arrays past it."""
        if self.size <= SMALL:
            self.numeric = [x for part in self.numeric_parts for x in part]
            self.exact = [x for part in self.exact_parts for x in part]
        elif self.numeric_parts:
            self.numeric = np.concatenate([np.asarray(p, dtype=np.float64)
                                           for p in self.numeric_parts])
            self.exact = np.concatenate([np.asarray(p, dtype=np.float64)
                                         for p in self.exact_parts])
        return self

    def real_mask(self) -> np.ndarray:
        mask = np.ones(self.size, dtype=bool)
        mask[list(self.special)] = False
        return mask

    def _block(self, i: int) -> tuple[int, Callable[[int], str], bool]:
        return self.blocks[bisect_right([b[0] for b in self.blocks], i) - 1]

    def label(self, i: int) -> str:
        start, label, _ = self._block(i)
        return label(i - start)

    def entry(self, i: int) -> Entry:
        _, _, derivative = self._block(i)
        value, kind = self.special.get(i, (float(self.exact[i]), "real"))
        return Entry(self.label(i), float(self.numeric[i]), value, kind, self.exprs[i], derivative)


def entries(num, sym, outputs: list[str], inputs: list[str]) -> Entries:
    """Every quantity both sides computed — values, J, vᵀJ, J u, H v, H — as ``Entries``.
    ``num``/``sym`` are assemble's Numeric and Symbolic parts."""
    ex = sym.exact
    found = Entries()
    found.add(num.value, ex["value"], outputs.__getitem__, False)
    n = len(inputs)
    if num.J is not None:
        found.add(num.J, ex["J"], lambda k: f"d{outputs[k // n]}/d{inputs[k % n]}", True)
    for key, numbers, fmt in (("vjp", num.vjp, "(vᵀJ)[{x}]"), ("jvp", num.jvp, "(J u)[{x}]"),
                              ("hvp", num.hvp, "(H v)[{x}]")):
        if numbers is not None and key in ex:
            names = outputs if key == "jvp" else inputs
            found.add(numbers, ex[key], lambda k, fmt=fmt, names=names: fmt.format(x=names[k]),
                      True)
    if num.H is not None and "H" in ex:
        found.add(num.H, ex["H"], lambda k: f"d2y/d{inputs[k // n]}d{inputs[k % n]}", True)
    return found.finish()


def _floats(numbers) -> list[float]:
    """A few numbers (flat or nested lists, or a tensor's wrapper) as one flat list of
    floats, row-major: what ``np.asarray(numbers).reshape(-1)`` holds."""
    tensor = getattr(numbers, "tensor", None)  # a J (``Floats``): its rows of floats,
    if tensor is not None and tensor.dim() == 2:  # flattened in one pass (a call per row
        return [x for row in numbers.tolist() for x in row]  # cost a small request ~1 µs)
    items = numbers.tolist() if hasattr(numbers, "tolist") else numbers
    if not isinstance(items, list):
        return [float(items)]
    if not any(isinstance(x, list) for x in items):
        return [float(x) for x in items]
    return [x for row in items for x in _floats(row)]
