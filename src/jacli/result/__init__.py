"""The ``Result``: everything a renderer may show, and ``to_dict()``, the JSON contract.

Plain Python only (strings, floats, lists); no torch, no SymPy, no jacli module outside
this package, so renderers and scripts depend on nothing heavy. Keys of ``to_dict()`` are a contract
(DESIGN §4): add keys, never rename them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jacli.result.lists import Floats, Listed, Texts

SCHEMA = "jacli/1"
__all__ = ["Floats", "Listed", "Texts", "Variable", "Matrix", "VJP", "Product", "Check", "Result",
           "strict", "SCHEMA"]


@dataclass(frozen=True)
class Variable:
    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Matrix:
    """A Jacobian (or Hessian): formulas, exact values at the point, and autograd's floats.
    Each is a list of rows (the string rows ``Texts``), or ``None`` when that side was not
    computed."""

    symbolic: list[Sequence[str]] | None = None
    exact: list[Sequence[str]] | None = None
    numeric: list[list[float]] | Floats | None = None  # Floats: equal to the rows it lists
    # long formulas shortened: ``symbolic`` then uses the names defined here, in order
    # (``{"name": "s1", "formula": "exp(x[0]) + exp(x[1])"}``; a formula may use earlier
    # names) and ``symbolic_full`` keeps the formulas written out; ``[]`` and ``None`` when
    # nothing was shortened (``symbolic`` is then the full form)
    definitions: list[dict[str, str]] = field(default_factory=list)
    symbolic_full: list[Sequence[str]] | None = None


@dataclass(frozen=True)
class VJP:
    """``vᵀJ``, flat over the inputs, and each variable's ``.grad`` shaped like it."""

    v: list[float]
    v_exact: list[str]
    exact: Sequence[str] | None = None
    numeric: list[float] | None = None
    symbolic: Sequence[str] | None = None
    grad: dict[str, Any] | None = None  # name -> nested floats (a float for a scalar)
    grad_repr: dict[str, str] | None = None  # name -> what print(x.grad) shows
    v_source: str = "--v"  # "--v" | "backward(v) in the program" | "1: scalar output"
    grad_none: tuple[str, ...] = ()  # variables whose .grad PyTorch leaves as None


@dataclass(frozen=True)
class Product:
    """J u (``jvp``) or H v (``hvp``): a vector over outputs (or inputs) and its direction."""

    name: str  # "u" or "v"
    vector: list[float]
    vector_exact: list[str]
    exact: Sequence[str] | None = None
    numeric: list[float] | None = None
    symbolic: Sequence[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {self.name: self.vector, f"{self.name}_exact": self.vector_exact,
                "exact": self.exact, "numeric": self.numeric, "symbolic": self.symbolic}


@dataclass(frozen=True)
class Check:
    """Autograd against SymPy's exact values at the point, entry by entry, and (``jacli
    check``) against finite differences.

    ``agree`` is SymPy against autograd alone (the JSON's ``check.agree``); ``all_agree`` is
    the verdict over every comparison made (``False``: exit code 1); the finite differences'
    own verdict is ``finite_differences["agree"]``. ``max_abs_diff``,
    ``worst`` and ``disagreements`` are SymPy against autograd. ``max_abs_diff`` is NaN or
    +inf when a disagreeing entry has no finite difference (``max_abs_diff_reason`` says
    which)."""

    agree: bool | None
    max_abs_diff: float | None
    compared: int
    tolerance: str
    worst: str | None = None
    disagreements: tuple[str, ...] = ()
    max_ulps: float | None = None  # float32 runs: worst error in units in the last place
    finite_differences: dict[str, Any] | None = None  # jacli check: the third opinion
    max_abs_diff_reason: str | None = None
    all_agree: bool | None = None  # with finite differences; without them, ``agree``

    def __post_init__(self) -> None:
        if self.finite_differences is None:  # SymPy is the only comparison
            object.__setattr__(self, "all_agree", self.agree)

    def failed(self) -> list[str]:
        """The comparisons that found a disagreement: "sympy", "finite_differences"."""
        fd = self.finite_differences
        return [name for name, bad in (("sympy", self.agree is False),
                                       ("finite_differences", bool(fd) and fd["agree"] is False))
                if bad]


@dataclass(frozen=True)
class Result:
    """What ``compute`` found. ``inputs``/``outputs`` are the flat column/row labels."""

    command: str
    source: str
    variables: tuple[Variable, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    output_label: str
    order: str  # how the variable order was chosen, for the header
    point: dict[str, Any] | None = None
    point_text: dict[str, str] | None = None
    value_exact: Sequence[str] | None = None
    value_numeric: list[float] | None = None
    jacobian: Matrix | None = None
    vjp: VJP | None = None
    jvp: Product | None = None
    hessian: Matrix | None = None
    hvp: Product | None = None
    check: Check | None = None
    structure: dict[str, Any] | None = None
    notices: tuple[str, ...] = ()
    dtype: str = "float64"
    device: str = "cpu"
    strategy: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    strategy_short: str | None = None  # the mode used in one line, for a table
    events: tuple[dict[str, Any], ...] = ()  # scripts: every gradient event, in order

    def only_event(self, out: dict[str, Any]) -> dict[str, Any]:
        """A typed program is a one-event script (DESIGN §2): its one event, from the top
        level (``.grad`` starts as None, as in a fresh PyTorch run)."""
        vjp = self.vjp
        grad = vjp.grad if vjp is not None and vjp.grad is not None else {}
        backward = vjp is not None and "backward" in vjp.v_source
        return {"kind": "backward" if backward else str(self.command), "line": None,
                "output": self.output_label, "output_shape": list(self.output_shape),
                "v": None if vjp is None else vjp.v, "inputs": list(self.inputs),
                # J is the top level's; repeated only while small (a 1000×1000 J once is
                # 20 MB of JSON)
                "jacobian": out["jacobian"] if len(self.inputs) * len(self.outputs) <= 10_000
                else None,
                "vjp": None if vjp is None else {"numeric": vjp.numeric, "exact": vjp.exact},
                "grad_before": {k: _zeros_like(g) for k, g in grad.items()},
                "grad": grad, "grad_none": list(vjp.grad_none) if vjp is not None else [],
                "grad_before_none": list(grad), "replayed": True}

    def to_dict(self, strict_json: bool = True) -> dict[str, Any]:
        """The JSON contract (strict JSON: non-finite numbers become strings). With
        ``strict_json=False`` the same keys, the values as held (``Texts``/``Floats`` and
        non-finite floats left as they are), for a writer that converts them itself
        (``cli.batch.answer_line``)."""
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "command": self.command,
            "variables": [{"name": v.name, "shape": list(v.shape)} for v in self.variables],
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "output_shape": list(self.output_shape),
            "point": self.point,
            "value": {"exact": self.value_exact, "numeric": self.value_numeric},
            "jacobian": None if self.jacobian is None else vars(self.jacobian),
            "notices": list(self.notices),
            "dtype": self.dtype,
            "device": self.device,
            "strategy": self.strategy,
            "strategy_short": self.strategy_short,
        }
        if self.vjp is not None:
            out["vjp"] = {"v": self.vjp.v, "v_exact": self.vjp.v_exact, "exact": self.vjp.exact,
                          "numeric": self.vjp.numeric, "symbolic": self.vjp.symbolic,
                          "grad": self.vjp.grad, "v_source": self.vjp.v_source,
                          "grad_none": list(self.vjp.grad_none)}
        if self.jvp is not None:
            out["jvp"] = self.jvp.to_dict()
        if self.hessian is not None:
            out["hessian"] = {**vars(self.hessian),
                              "hvp": None if self.hvp is None else self.hvp.to_dict()}
        if self.check is not None:
            c = self.check
            out["check"] = {"agree": c.agree, "max_abs_diff": c.max_abs_diff,
                            "compared": c.compared, "tolerance": c.tolerance,
                            "worst": c.worst,
                            "disagreements": list(c.disagreements),
                            "max_ulps": c.max_ulps,
                            "max_abs_diff_reason": c.max_abs_diff_reason,
                            "all_agree": c.all_agree, "failed": c.failed()}
            if c.finite_differences is not None:
                out["check"]["finite_differences"] = c.finite_differences
        if self.structure is not None:
            out["structure"] = self.structure
        if self.events:
            out["events"] = list(self.events)
        elif self.vjp is not None or self.jacobian is not None:
            out["events"] = [self.only_event(out)]
        out.update(self.extras)
        return strict(out) if strict_json else out


def _zeros_like(value: Any) -> Any:
    return [_zeros_like(v) for v in value] if isinstance(value, list) else 0.0


def strict(value: Any) -> Any:
    """Replace non-finite floats by the strings "NaN", "Infinity", "-Infinity" (RFC 8259)."""
    kind = type(value)
    if kind is float:
        return value if value - value == 0.0 else _non_finite(value)  # inf - inf, nan: nan
    if kind is str or kind is int or value is None or kind is bool:
        return value  # the common leaves first: a batch answer has ~140 of them
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, Listed)):
        if all(type(v) is float for v in value):  # a row of numbers: one pass, no calls
            return [v if v - v == 0.0 else _non_finite(v) for v in value]
        return [strict(v) for v in value]
    if isinstance(value, float):  # a float subclass (ir.Real)
        return value if math.isfinite(value) else _non_finite(value)
    return value


def _non_finite(x: float) -> str:
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
