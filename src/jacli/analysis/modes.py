"""Which AD mode computes the numeric J, and the sentences that say which and why.

``choose_mode`` is the rule (measured in bench/, tabled in docs/benchmarks.md); the
sentences — the strategy line, the structure's mode line, the table's short line — are made
once per (shape, choice) and kept: a batch request of a repeated program says the same three.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager


FEW_OUTPUTS = 32  # tensor programs with m up to this: batched VJPs beat n JVPs (bench/)
COLD_REV_MAX = 256  # past this m, legacy-vmap VJPs cost more than importing torch._dynamo

_LONG_RUNNING = False  # set by commands that answer many requests (``jacli batch``)

@contextmanager
def long_running():
    """While this process answers many requests: it pays ``torch._dynamo``'s import at most
    once, so every request gets the warm rules — the same request, the same strategy,
    whatever came before it."""
    global _LONG_RUNNING
    before, _LONG_RUNNING = _LONG_RUNNING, True
    try:
        yield
    finally:
        _LONG_RUNNING = before

def warm_process() -> bool:
    """Whether ``torch.func``'s reverse mode is paid for (or will be, once, worth it)."""
    return _LONG_RUNNING or "torch._dynamo" in sys.modules

def choose_mode(m: int, n: int, requested: str = "auto", tensors: bool = False,
                warm: bool | None = None, literals: bool = True,
                lanes: bool = False) -> tuple[str, str, str]:
    """(mode, implementation, reason) for the numeric J (m outputs × n inputs), from the
    measurements in docs/benchmarks.md.

    ``warm``: whether ``torch._dynamo`` is already imported or the process is long-running
    (default: ``warm_process()``). ``torch.func``'s
    reverse mode imports it on first use (0.6–0.9 s, more than any J of a one-shot run
    costs), so a cold process uses the dynamo-free strategies — ``autograd.functional``
    (legacy vmap) and ``vmap`` of forward-mode ``jvp`` — and a warm one (``jacli batch``, a
    library caller) the fastest measured warm.

    * scalar systems that run in lanes (``lanes``: ``runtime.lanes``): the fewer passes
      (forward when n <= m), since each call then works on a batch of m VJPs or n JVPs
      (banded 30×300: reverse 3.1 ms, forward 14.7; 300×30: forward 0.6, reverse 2.1);
    * other scalar systems (every variable a scalar): ``autograd.functional``, reverse, on every
      shape measured — unless no number literal scales or shifts a term (``literals``
      False, see ``literal_free``): then its forward mode, 1.1–1.7× faster on every shape
      measured there, where a literal (``2*x``, ``x/4``, ``x+1``) made it 3–19× slower;
    * tensor programs: reverse when m <= 32 or n > m (or, warm, n == m), else forward
      (whose basis of n JVPs is n×n: at most m·n, J's own size).
    """
    if warm is None:
        warm = warm_process()
    mode, rule = _rule(m, n, requested, tensors, warm, literals, lanes)
    if not tensors:
        impl = "af_" + mode
    elif mode == "fwd":
        impl = "jvp_vmap"
    else:
        impl = "vjp_vmap" if warm or m > COLD_REV_MAX else "af_rev"
    return mode, impl, Reason(_REASONS[rule].format(m=m, n=n, req=requested), rule)

class Reason(str):
    """``choose_mode``'s reason: the text, and ``rule``, the ``_REASONS`` key that made it."""

    rule: str

    def __new__(cls, text: str, rule: str) -> Reason:
        self = super().__new__(cls, text)
        self.rule = rule
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # pickled (a one-shot run's child sends it)
        return str(self), self.rule

def _rule(m: int, n: int, requested: str, tensors: bool, warm: bool,
          literals: bool = True, lanes: bool = False) -> tuple[str, str]:
    """(mode, the key of the rule that picked it in ``_REASONS``)."""
    if requested in ("fwd", "rev"):
        return requested, "requested"
    if not tensors and lanes:
        return ("fwd" if n <= m else "rev"), "lanes"
    if not tensors:
        return ("rev", "scalars") if literals else ("fwd", "plain_scalars")
    if m <= FEW_OUTPUTS:
        return "rev", "few"
    if n > m or (warm and n == m):  # forward mode would also hold an n×n basis
        return "rev", "wide"
    return "fwd", "tall" if warm else "tall_cold"

# Why each rule picked its mode: the reason in the strategy line, and, for a rule that may pick
# the mode with more passes, the clause that says why (``_BECAUSE``, ``_BECAUSE_SHORT``).
_REASONS = {
    "requested": "--mode {req}",
    "scalars": "auto: a system of scalar variables ({m}×{n}): batched VJPs measured fastest "
               "for every shape (docs/benchmarks.md)",
    "plain_scalars": "auto: a system of scalar variables ({m}×{n}) with no number literal "
                     "in its terms: batched JVPs measured fastest (docs/benchmarks.md)",
    "lanes": "auto: a system of scalar variables ({m}×{n}) run in lanes: the fewer passes, "
             "each a batch (docs/benchmarks.md)",
    "few": "auto: few outputs ({m}): {m} batched VJPs",
    "wide": "auto: {m} output(s) <= {n} input(s): {m} batched VJPs",
    "tall": "auto: {n} batched JVPs",
    "tall_cold": "auto: {n} batched JVPs (reverse mode's torch.func would import torch._dynamo; "
                 "its autograd.functional measured slower on tensor programs)",
}
_BECAUSE = {
    "requested": "--mode {req} asked for it",
    "scalars": "for a system of scalar variables batched VJPs measured fastest at every shape, "
               "tall ones included (docs/benchmarks.md)",
    "few": f"the rule keeps reverse mode up to {FEW_OUTPUTS} outputs, where batched VJPs "
           "measured no slower (tensor 16×16 in docs/benchmarks.md)",
    "plain_scalars": "for a system of scalar variables with no number literal in its terms "
                     "batched JVPs measured fastest at every shape, wide ones included "
                     "(docs/benchmarks.md)",
}
_BECAUSE_SHORT = {
    "requested": "--mode {req} asked for it",
    "scalars": "reverse measured faster for scalar variables",
    "few": f"the rule keeps reverse up to {FEW_OUTPUTS} outputs",
    "plain_scalars": "forward measured faster for scalar terms without literals",
}


_IMPLS = {"af_rev": "torch.autograd.functional.jacobian, vectorize=True",
          "af_fwd": "torch.autograd.functional.jacobian, forward-mode, vectorize=True",
          "vjp_vmap": "torch.vmap over torch.func.vjp",
          "jvp_vmap": "torch.vmap over torch.func.jvp"}

def strategy_text(mode: str, impl: str, reason: str) -> str:
    return _said(_strategy_text, mode, impl, reason)


def _strategy_text(mode: str, impl: str, reason: str) -> str:
    kind = "forward mode" if mode == "fwd" else "reverse mode"
    return f"{kind} ({_IMPLS[impl]}) — {reason}"


_SAID: dict = {}  # the sentences below by their arguments: a batch request says the same three
_SAID_AS: dict = {}  # the same, by the arguments' identities: see ``_said``


def _said(say, *args) -> str:
    """``say(*args)``, kept (a few hundred at most): each request of a repeated program
    would otherwise format the same sentences again (~6 µs a small request). A reason's
    rule is part of the key: two rules could word a reason alike. Looked up first by the
    arguments' identities (a repeated program passes the same choice object, kept by
    ``numeric._known_choice``): hashing the reason's text and reading its rule cost ~1 µs a
    sentence. The entry keeps its arguments alive, so no other object takes their ids."""
    by_id = (say, *map(id, args))
    kept = _SAID_AS.get(by_id)
    if kept is not None:
        return kept[1]
    key = (say, *args, *(getattr(a, "rule", None) for a in args if isinstance(a, str)),
           *(getattr(a[2], "rule", None) for a in args if isinstance(a, tuple)))
    found = _SAID.get(key)
    if found is None:
        if len(_SAID) >= 512:
            _SAID.clear()
        found = _SAID[key] = say(*args)
    if len(_SAID_AS) >= 512:
        _SAID_AS.clear()
    _SAID_AS[by_id] = (args, found)
    return found

def _cheaper(m: int, n: int) -> str | None:
    """The mode with fewer passes (one VJP per output row, one JVP per input column), or
    ``None`` when both need the same number."""
    return None if m == n else ("rev" if m < n else "fwd")

def _rule_of(choice: tuple[str, str, str]) -> str:
    """The rule behind ``choice`` ("given": a plain string reason, said as it is)."""
    return getattr(choice[2], "rule", "given")

def _because(choice: tuple[str, str, str], table: dict[str, str]) -> str:
    rule = _rule_of(choice)
    return table[rule].format(req=choice[0]) if rule in table else str(choice[2])

def mode_sentence(m: int, n: int, choice: tuple[str, str, str] | None) -> str:
    """The structure's ``mode``: each mode's cost and the mode used (``_mode_text``)."""
    return _said(_mode_text, m, n, choice)


def _mode_text(m: int, n: int, choice: tuple[str, str, str] | None) -> str:
    """The cost of each mode by count and the mode used; when the mode used needs more passes,
    the same sentence says why."""
    cheaper = _cheaper(m, n)
    costs = f"{m} out × {n} in: reverse mode costs {m} VJP(s), forward mode {n} JVP(s)"
    if choice is None:
        verdict = "equal cost" if cheaper is None else f"{_KIND[cheaper]} needs fewer"
        return f"{costs} ({verdict}); used none (formulas only)"
    mode, impl, reason = choice
    if cheaper is None or cheaper == mode:
        verdict = "equal cost" if cheaper is None else f"{_KIND[mode]} needs fewer"
        return f"{costs} ({verdict}); used {strategy_text(mode, impl, reason)}"
    because = _because(choice, _BECAUSE)
    return (f"{costs}: {_KIND[cheaper]} needs fewer passes, but {_KIND[mode]} "
            f"({_IMPLS[impl]}) was used because {because}")

def mode_line(m: int, n: int, choice: tuple[str, str, str] | None) -> str | None:
    """The mode used, in one short line for a table: its passes, the other mode's, and why
    when the mode used needs more (``None``: no numeric J)."""
    return None if choice is None else _said(_mode_line, m, n, choice)


def _mode_line(m: int, n: int, choice: tuple[str, str, str]) -> str:
    mode, rule = choice[0], _rule_of(choice)
    other_mode = "rev" if mode == "fwd" else "fwd"
    used, other = _passes(mode, m, n), _passes(other_mode, m, n)
    head, other_kind = f"{_KIND[mode]}, {used}", _KIND[other_mode].split()[0]
    note = f"--mode {mode}; " if rule == "requested" else ""
    cheaper = _cheaper(m, n)
    if cheaper is None:
        return f"{head} ({note}equal cost)"
    if cheaper == mode:
        return f"{head} ({note}{other_kind} would need {other})"
    return f"{head} ({other_kind} needs only {other}, but {_because(choice, _BECAUSE_SHORT)})"

_KIND = {"rev": "reverse mode", "fwd": "forward mode"}

def _passes(mode: str, m: int, n: int) -> str:
    k, what = (m, "VJP") if mode == "rev" else (n, "JVP")
    return f"{k} {what}" + ("" if k == 1 else "s")
