"""The benchmark's functions, each written twice: as jacli source text and as PyTorch.

Scalar systems: ``m`` outputs over ``n`` scalar variables ``x1..xn``; every output is a sum of
a few cheap terms (products, powers, sin/cos/exp) over a few variables, every variable is
used at least once. Tensor programs: ``tanh(W2 @ tanh(W1 @ x))``. Generation is seeded, so
every run (and every child process) sees the same functions and points.
"""

from __future__ import annotations

import random
import re

# (jacli text, Python/torch text) term templates; {a} {b} are variable names
_TERMS = [
    ("{a}*{b}", "{a}*{b}"),
    ("sin({a})", "torch.sin({a})"),
    ("{a}**2", "{a}**2"),
    ("cos({a})*{b}", "torch.cos({a})*{b}"),
    ("exp({a}/4)", "torch.exp({a}/4)"),
    ("2*{a}", "2*{a}"),
]


def scalar_system(m: int, n: int, seed: int = 0):
    """``(jacli_source, torch_source, names, point_text)`` for an m-output, n-input system.

    ``torch_source`` defines ``f(x)`` on a flat ``(n,)`` tensor, returning ``(m,)``.
    """
    rng = random.Random(seed * 1_000_003 + m * 1009 + n)
    names = [f"x{i + 1}" for i in range(n)]
    per_output = max(3, -(-n // m))  # enough variables per output to use every variable
    order = names[:]
    rng.shuffle(order)
    jac_rows, py_rows = [], []
    for i in range(m):
        chosen = list(dict.fromkeys(order[(i * per_output + k) % n] for k in range(per_output)))
        jt, pt = _expression(chosen, rng)
        jac_rows.append(jt)
        py_rows.append(pt)
    used = sorted({v for row in jac_rows for v in re.findall(r"x\d+", row)}, key=lambda s: int(s[1:]))
    point = ",".join(f"{rng.randint(1, 19) / 10:g}" for _ in used)
    py = (f"def f(x):\n    {', '.join(used)}{',' if len(used) == 1 else ''} = x.unbind(0)\n"
          f"    return torch.stack([\n        " + ",\n        ".join(py_rows) + "])\n")
    return ", ".join(jac_rows), py, used, point


def banded_system(m: int, n: int):
    """The issue's banded system, terms ``x{k}**2*x{k+1} + sin(x{k})`` (indices cyclic over
    n), in the form of ``scalar_system``: output i has one term (m >= n) or the terms of a
    block of n/m consecutive k (m < n). No literal scales or shifts a term."""
    terms = max(m, n)
    blocks = [range(i * terms // m, (i + 1) * terms // m) if m < n else (i,) for i in range(m)]
    pair = lambda k: (k % n + 1, (k + 1) % n + 1)  # noqa: E731
    jac = ", ".join(" + ".join("x{0}**2*x{1}+sin(x{0})".format(*pair(k)) for k in b)
                    for b in blocks)
    rows = ",\n        ".join(" + ".join("x{0}**2*x{1} + torch.sin(x{0})".format(*pair(k))
                                          for k in b) for b in blocks)
    used = sorted({f"x{v}" for b in blocks for k in b for v in pair(k)}, key=lambda s: int(s[1:]))
    point = ",".join(f"{0.1 + (i % 17) / 10:g}" for i in range(len(used)))
    py = (f"def f(x):\n    {', '.join(used)}{',' if len(used) == 1 else ''} = x.unbind(0)\n"
          f"    return torch.stack([\n        {rows}])\n")
    return jac, py, used, point


def _expression(chosen: list[str], rng: random.Random) -> tuple[str, str]:
    jt, pt = [], []
    for k, a in enumerate(chosen):
        b = chosen[(k + 1) % len(chosen)]
        j, p = _TERMS[rng.randrange(len(_TERMS))]
        jt.append(j.format(a=a, b=b))
        pt.append(p.format(a=a, b=b))
    return " + ".join(jt), " + ".join(pt)


TENSOR_SOURCE = "tanh(W2 @ tanh(W1 @ x))"


def tensor_point(n_out: int, n_in: int, seed: int = 0):
    """Seeded float64 ``W1`` (n_out×n_in), ``W2`` (n_out×n_out), ``x`` (n_in,), as tensors;
    the weights are scaled by 1/sqrt(fan-in) so tanh stays away from saturation."""
    import torch

    g = torch.Generator().manual_seed(seed * 7919 + n_out * 31 + n_in)
    W1 = torch.randn(n_out, n_in, generator=g, dtype=torch.float64) / n_in ** 0.5
    W2 = torch.randn(n_out, n_out, generator=g, dtype=torch.float64) / n_out ** 0.5
    x = torch.randn(n_in, generator=g, dtype=torch.float64)
    return {"W1": W1, "W2": W2, "x": x}


def tensor_point_text(point) -> tuple[str, ...]:
    """The same point as ``--at`` strings (exact decimal reprs of the float64 values)."""
    def text(t):
        if t.dim() == 0:
            return repr(float(t))
        return "[" + ",".join(text(r) for r in t) + "]"

    return tuple(f"{k}={text(v)}" for k, v in point.items())
