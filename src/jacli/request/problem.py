"""The ``Problem``: what the user asked, and the one builder that checks it.

The CLI, ``jacli batch`` and the Python API all build their ``Problem`` with ``build``, so an
option means the same everywhere and is refused the same way everywhere — before any heavy
import. Texts (the function, ``--at``, ``--v``, ``--u``) stay texts here: parsing them is the
first stage of ``analysis``, under its time budget. Values the Python API hands over
(tensors, arrays, numbers) are kept as values (``lazy.given``), never made text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from jacli.bounds import DEFAULT_LIMITS, Limits
from jacli.errors import UsageError
from jacli.request.command import Command, command, not_taken, takes
from jacli.request import lazy

DTYPES = ("float64", "float32")
SYMBOLIC = ("auto", "always", "never")  # the SymPy side: skipped with a notice when too big
MODES = ("auto", "fwd", "rev")  # how the numeric J is built
EMITS = ("torch",)
MAX_TIMEOUT = 86_400.0  # a day: larger values overflow the interval timer
_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")


@dataclass(frozen=True)
class Problem:
    """What the user asked. ``at`` holds ``--at`` texts and, from the API, ``(name, value)``
    pairs; ``v``/``u`` are texts, or values from the API (``u`` also pairs by variable)."""

    source: str
    command: Command = Command.jacobian
    at: tuple[str | tuple[str, Any], ...] = ()
    v: Any = None
    u: Any = None
    vars: tuple[str, ...] | None = None
    wrt: tuple[str, ...] | None = None
    output: str | None = None
    dtype: str = "float64"
    device: str = "cpu"
    symbolic: str = "auto"  # auto | always | never
    mode: str = "auto"  # auto | fwd | rev
    emit: str | None = None  # "torch": also build a standalone PyTorch script
    latex: bool = False  # also typeset the formulas with SymPy's LaTeX printer
    limits: Limits = field(default=DEFAULT_LIMITS)
    seed: int | None = None  # scripts: the seed random tensors are drawn with (default 0)
    event: str | None = None  # scripts: which gradient event the tables show ("last", "3")

    def __post_init__(self) -> None:
        # a Problem made by hand with command="vjp" still holds a Command
        object.__setattr__(self, "command", command(self.command))


def build(command_name: str, source: str, *,
          at: str | Iterable[str] | Mapping[str, Any] | None = None,
          v: Any = None, u: Any = None, vars: str | Iterable[str] | None = None,
          wrt: str | Iterable[str] | None = None, output: str | None = None,
          dtype: str = "float64", device: str = "cpu", symbolic: str = "auto",
          mode: str = "auto", emit: str | None = None, latex: bool = False,
          timeout: float = DEFAULT_LIMITS.timeout, given: Iterable[str] = (),
          seed: int | None = None, event: str | int | None = None,
          max_entries: int | None = None) -> Problem:
    """A checked ``Problem``. ``given`` names the options the caller set explicitly (a batch
    request's keys, the API's keywords): one the command does not take is refused. Vectors
    may be texts (``"1,2"``) or nested lists of numbers; names a comma text or a list. ``at``
    may also map variable names to values (tensors, NumPy arrays, numbers, nested lists, or
    texts), ``v`` be a tensor or an array, and ``u`` either, or map variables to them.
    ``max_entries`` raises (or lowers) the numeric Jacobian's entry limit (the J of a
    256→256 layer wrt its 256×256 weights has 16.8 M entries)."""
    cmd = command(command_name)
    for option in given:
        if not takes(cmd, option):
            raise not_taken(cmd, option)
    _choice(dtype, DTYPES, "--dtype")
    _choice(symbolic, SYMBOLIC, "--symbolic")
    _choice(mode, MODES, "--mode")
    if emit is not None:
        _choice(emit, EMITS, "--emit")
    check_device(device)
    limits = DEFAULT_LIMITS if timeout == DEFAULT_LIMITS.timeout and max_entries is None \
        else replace(DEFAULT_LIMITS, timeout=check_timeout(timeout),
                     jacobian_entries=check_entries(max_entries))
    return Problem(source=source, command=cmd, at=_texts(at), v=_vector(v, "--v"),
                   u=_vector(u, "--u"), vars=names(vars), wrt=names(wrt), output=output,
                   dtype=dtype, device=device, symbolic=symbolic, mode=mode, emit=emit,
                   latex=latex, limits=limits, seed=check_seed(seed),
                   event=check_event(event))


def at_point(problem: Problem, at) -> Problem:
    """``problem`` asked at ``at`` instead (read as ``build`` reads it): requests that differ
    only in their point (``jacli batch``) check their options once and copy the ``Problem``
    per request (``build``'s checks and the frozen dataclass's fields cost ~5 µs a call)."""
    moved = object.__new__(Problem)
    moved.__dict__.update(problem.__dict__)
    moved.__dict__["at"] = _texts(at)
    return moved


def check_entries(entries) -> int:
    """``max_entries``: a positive whole number (default: ``Limits().jacobian_entries``)."""
    if entries is None:
        return DEFAULT_LIMITS.jacobian_entries
    return _whole(entries, 1, None, "max_entries", "a positive whole number")


def check_seed(seed) -> int | None:
    """``--seed``: a non-negative integer below 2**63 (what torch.manual_seed takes)."""
    return None if seed is None else _whole(seed, 0, 2**63, "--seed",
                                            "a whole number from 0 to 2**63-1")


def _whole(value, low: int, high: int | None, flag: str, wanted: str) -> int:
    """``value`` when it is an int (not a bool) with low <= value (< high), else one line."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low \
            or (high is not None and value >= high):
        raise UsageError(f"{flag} {value!r}: give {wanted}", where=flag)
    return value


def check_event(event) -> str | None:
    """``--event``: ``last`` or an event's number, 1 for the first."""
    if event is None:
        return None
    text = str(event).strip().lower()
    if text == "last" or (text.isdigit() and int(text) >= 1):
        return text
    raise UsageError(f"--event {event!r}: give an event's number (1 for the first) or 'last'",
                     where="--event")


def _choice(value: str, allowed: tuple[str, ...], flag: str) -> None:
    if value not in allowed:
        raise UsageError(f"{flag} {value!r} is not one of {', '.join(allowed)}", where=flag)


def check_device(name: str) -> None:
    """``--device``'s syntax, checked before torch is imported (torch checks existence)."""
    if not isinstance(name, str) or not _DEVICE.fullmatch(name):
        raise UsageError(f"--device {name!r} is not a device jacli knows",
                         hint="use cpu, cuda or cuda:N", where="--device")


def check_timeout(seconds, where: str = "--timeout") -> float:
    """A finite, positive time budget in seconds, at most ``MAX_TIMEOUT``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0 < seconds <= MAX_TIMEOUT:
        raise UsageError(f"{where} must be a positive number of seconds, at most "
                         f"{MAX_TIMEOUT:g}", where=where)
    return float(seconds)


def names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"x, y"`` or ``["x", "y"]`` as a tuple of names; ``None`` when not given."""
    if not value:
        return None
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(n).strip() for n in items if str(n).strip()) or None


def vector_text(value: Any) -> str | None:
    """``"1,2"`` or ``[1, 2]`` both mean the vector 1,2 (the ``--v`` grammar reads the text)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _texts(at) -> tuple[str | tuple[str, Any], ...]:
    if at is None:
        return ()
    if isinstance(at, str):  # (first: typing's Mapping check costs ~1 µs a call)
        return (at,)
    if isinstance(at, Mapping):  # the API's values by name; a text value is read as --at's
        return tuple(f"{k}={v}" if isinstance(v, str) else
                     (str(k), lazy.given(v, f"--at {k}")) for k, v in at.items())
    return tuple(map(str, at))


def _vector(value: Any, where: str) -> Any:
    """``--v``/``--u``: a text (lists become one), an API value, or (``u``) values by name."""
    if value is None or isinstance(value, str):  # (first: typing's Mapping check, ~1 µs)
        return value
    if isinstance(value, Mapping):
        return tuple((str(k), lazy.given(v, f"{where} {k}")) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return vector_text(value)
    return lazy.given(value, where)
