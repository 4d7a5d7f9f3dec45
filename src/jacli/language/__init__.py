"""jacli's language: text in, a validated ``Program`` out (DESIGN §2). Evaluates nothing."""

from jacli.language.ir import Program
from jacli.bounds import DEFAULT_LIMITS, Limits
from jacli.errors import JacliError
from jacli.language.program import parse_program

__all__ = ["Program", "is_program", "parse_program"]


def is_program(text: str, *, output: str | None = None,
               limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether ``parse_program`` takes ``text`` (else it is refused, or is a script's)."""
    try:
        parse_program(text, output=output, limits=limits)
    except JacliError:
        return False
    return True
