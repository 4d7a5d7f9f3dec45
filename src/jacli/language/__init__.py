"""jacli's language: text in, a validated ``Program`` out (DESIGN §2). Evaluates nothing."""

from jacli.language.ir import Program
from jacli.language.program import parse_program

__all__ = ["Program", "parse_program"]
