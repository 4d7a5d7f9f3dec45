"""Names and shapes as a person reads them: element labels and shape texts.

Pure Python (no NumPy): renderers, messages and the stages all name things the same way.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product


def labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """Flat (C order) labels of a tensor's elements: ``x``, or ``a[0,0] … a[1,1]``."""
    return list(_labels(name, tuple(shape)))


@lru_cache(maxsize=32)  # one variable's tuple is _labels' own; several make a new one
def joined_labels(parts: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple[str, ...]:
    """The labels of several tensors' elements, one after the other, as one shared tuple:
    a ``Result`` of the API in a loop holds the same tuple every call (a fresh list of 256
    labels touches 256 string objects, each a cache miss after a large J's computation)."""
    if len(parts) == 1:
        return _labels(*parts[0])
    return tuple(label for name, shape in parts for label in _labels(name, shape))


@lru_cache(maxsize=256)  # a 256-vector's labels cost ~0.2 ms: the API in a loop asks again
def _labels(name: str, shape: tuple[int, ...]) -> tuple[str, ...]:
    if not shape:
        return (name,)
    return tuple(f"{name}[{','.join(map(str, i))}]" for i in product(*map(range, shape)))


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as Python and PyTorch print it: ``(2, 3)``, ``(3,)``, ``()``."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def dims_text(shape: tuple[int, ...]) -> str:
    """A shape for a table's header: ``2×3``, or ``scalar``."""
    return "scalar" if not shape else "×".join(map(str, shape))


def derivative_text(output: str, inputs: tuple[str, ...] | list[str], order: int = 1) -> str:
    """``∂f/∂(x, y)`` (``order=2``: ``∂²f/∂(x, y)²``): the output's label over the variables
    that the element labels ``inputs`` belong to (``x`` when there are more than three)."""
    names = list(dict.fromkeys(label.split("[")[0] for label in inputs))
    over = names[0] if len(names) == 1 else f"({', '.join(names)})" if len(names) <= 3 else "x"
    power = "²" if order == 2 else ""
    return f"∂{power}{output}/∂{over}{power}"
