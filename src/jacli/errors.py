"""Errors and exit codes: the one exception family that user input can raise.

Every problem a user can cause becomes a ``JacliError`` carrying a message, an optional
position (line, column, 1-based) in the text it came from, and a hint. ``cli.py`` turns it
into one line on stderr (or a JSON error object) and an exit code, in exactly one place.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0
    DISAGREE = 1  # a check found autograd and SymPy (or finite differences) disagreeing
    BAD_INPUT = 2  # parse, shape, unknown name or function, bad --at/--v, usage
    LIMIT = 3  # a budget or limit was hit: time, size
    INTERNAL = 4  # a bug in jacli (--debug shows the traceback)
    INTERRUPTED = 130  # Ctrl-C


class JacliError(Exception):
    """A problem with what the user asked for; never a bug in jacli.

    ``source`` is the text the position refers to (the expression, or an ``--at`` value);
    ``line``/``column`` are 1-based and may be ``None`` when no position makes sense.
    """

    kind = "input"
    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        where: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line
        self.column = column
        self.source = source
        self.where = where  # e.g. "--at", "--v", "expression"

    def to_dict(self) -> dict:
        """The ``error`` object of the JSON contract (DESIGN §4)."""
        return {
            "kind": self.kind,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "where": self.where,
        }


class ParseError(JacliError):
    """The text is not in jacli's language (syntax, a refused construct, a bad character)."""

    kind = "parse"


class NameLookupError(JacliError):
    """A name that is neither a variable, a constant nor a known function."""

    kind = "name"


class ShapeError(JacliError):
    """Shapes that do not fit: broadcasting, matmul, ``--v`` of the wrong size, indexing."""

    kind = "shape"


class ValueInputError(JacliError):
    """A bad ``--at`` / ``--v`` / ``--u`` value."""

    kind = "value"


class UsageError(JacliError):
    """Options that contradict each other or a missing required option."""

    kind = "usage"


class DeviceError(JacliError):
    """A ``--device`` that this machine does not have."""

    kind = "device"


class ScriptError(JacliError):
    """The script itself fails as PyTorch runs it (a second backward through a freed graph,
    ``grad`` of a non-scalar without ``grad_outputs``, a name used before it is bound)."""

    kind = "script"


class LimitError(JacliError):
    """A size or time budget was hit before any heavy work was done."""

    kind = "limit"
    exit_code = ExitCode.LIMIT


def internal_error(e: Exception) -> JacliError:
    """A bug in jacli, not the user's input: exit code 4 and a pointer to ``--debug``.

    An ImportError is the one exception here that is usually not jacli's: a broken install, or
    a library (PyTorch's CUDA build maps GBs) that cannot load under a memory limit.
    """
    hint = ("a library could not be loaded: check that `python -c 'import torch'` works, "
            "and any memory limit (ulimit -v)" if isinstance(e, ImportError) else
            "this is a bug in jacli; rerun with --debug for the traceback")
    err = JacliError(f"internal error: {type(e).__name__}: {e}", hint=hint)
    err.kind, err.exit_code = "internal", ExitCode.INTERNAL
    return err
