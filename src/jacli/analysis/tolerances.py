"""How close autograd's numbers must be to SymPy's exact values (and to each other) to
agree: (rtol, atol) per dtype, as ``torch.allclose`` reads them. Its own module: the
``--at-file`` stream checks its batched rows with them without importing SymPy."""

import math

TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (1e-4, 1e-5)}


def close_in_float32(a: list[float] | None, b: list[float] | None) -> bool:
    """Whether two vectors agree entry by entry within float32's reach (a script's float32
    run against jacli's float64 replay); a NaN or an infinity only with its own kind, so
    inf is never close to a large finite number."""
    def near(x: float, y: float) -> bool:
        if math.isfinite(x) and math.isfinite(y):
            return abs(x - y) <= 1e-5 * (abs(x) + abs(y)) + 1e-6
        return x == y or (math.isnan(x) and math.isnan(y))

    return a is not None and b is not None and len(a) == len(b) and all(
        near(float(x), float(y)) for x, y in zip(a, b))
