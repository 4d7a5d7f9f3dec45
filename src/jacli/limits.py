"""The limits that keep untrusted input bounded; every one is documented in the README.

They are checked before any heavy work, so an oversized input costs milliseconds, not memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on input size and work. ``Limits()`` holds the defaults."""

    source_chars: int = 20_000  # expression / program text
    value_chars: int = 4_000_000  # one --at / --v / --u text (parsed within the time budget)
    nodes: int = 5_000  # syntax-tree nodes in the program
    depth: int = 100  # nesting depth of the program (parentheses, calls, operators)
    digits: int = 400  # digits in one number literal
    exponent: int = 10_000  # |n| of a constant exponent the symbolic side will expand
    static_int: int = 10**12  # largest shape/dim argument (e.g. ones(10**5, 10**5))
    tensor_elements: int = 10_000_000  # elements in one tensor (program or --at)
    jacobian_entries: int = 1_000_000  # numeric Jacobian m*n: 1000×1000 (≈ 20 MB of JSON)
    symbolic_entries: int = 10_000  # symbolic Jacobian m*n before it is skipped with a notice
    timeout: float = 10.0  # seconds per stage: input parsing, autograd, SymPy (each its own)


DEFAULT_LIMITS = Limits()
