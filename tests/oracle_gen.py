"""The differential oracle's generator: random programs in jacli's language and, written by
separate code, the same programs as plain PyTorch.

Imports nothing of jacli: the PyTorch text is built here from the same random choices, with
PyTorch's own spellings (``torch.sin``, ``torch.nn.functional.softplus``, in-place
``b[0] = ...``, ``with torch.no_grad():``), so the two sides share no code but the choices.

Each expression is built as three texts at once: ``j`` (jacli's language, in one of its
spellings: ``sin(e)``, ``e.sin()``, ``torch.sin(e)``), ``t`` (plain PyTorch) and ``g`` (the
PyTorch text with guards: ``_m(e, kind)`` records how far an argument is from a domain edge,
a pole or a kink, and returns it unchanged). The harness evaluates ``g`` once at the point and
rejects the case when a margin is too small, so every compared point is one where both
functions and derivatives exist and are smooth (the kinks' conventions are tested elsewhere).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

# Elementwise functions: jacli name -> (PyTorch spelling, guard kind or None, domain of the
# table walk). Guard kinds: pos (x > 0), unit (|x| < 1), gt1 (x > 1), nz (x != 0: a pole or
# a kink), cos (tan's poles: cos x != 0).
UNARY: dict[str, tuple[str, str | None, tuple[float, float]]] = {
    "sin": ("torch.sin", None, (-2, 2)), "cos": ("torch.cos", None, (-2, 2)),
    "tan": ("torch.tan", "cos", (-1.2, 1.2)), "asin": ("torch.asin", "unit", (-0.9, 0.9)),
    "acos": ("torch.acos", "unit", (-0.9, 0.9)), "atan": ("torch.atan", None, (-2, 2)),
    "sinh": ("torch.sinh", None, (-2, 2)), "cosh": ("torch.cosh", None, (-2, 2)),
    "tanh": ("torch.tanh", None, (-2, 2)), "asinh": ("torch.asinh", None, (-2, 2)),
    "acosh": ("torch.acosh", "gt1", (1.1, 3)), "atanh": ("torch.atanh", "unit", (-0.9, 0.9)),
    "exp": ("torch.exp", None, (-2, 2)), "log": ("torch.log", "pos", (0.1, 3)),
    "log2": ("torch.log2", "pos", (0.1, 3)), "log10": ("torch.log10", "pos", (0.1, 3)),
    "sqrt": ("torch.sqrt", "pos", (0.1, 3)), "abs": ("torch.abs", "nz", (-2, 2)),
    "square": ("torch.square", None, (-2, 2)), "sigmoid": ("torch.sigmoid", None, (-2, 2)),
    "relu": ("torch.relu", "nz", (-2, 2)),
    "softplus": ("torch.nn.functional.softplus", None, (-2, 2)),
}
# jacli names that are not methods of a tensor in PyTorch (so never spelled ``e.f()``)
NOT_METHODS = {"softplus"}
# Other jacli functions with an oracle meaning, by the part of the generator that makes them
BINARY = {"pow": "torch.pow", "maximum": "torch.maximum", "minimum": "torch.minimum"}
REDUCTIONS = {"sum": "sum", "mean": "mean", "prod": "prod", "amax": "amax", "amin": "amin"}
OTHERS = {"detach", "norm", "dot", "matmul", "mm", "mv", "view", "reshape", "flatten", "T",
          "t", "transpose", "unsqueeze", "squeeze", "clone", "stack", "cat", "zeros", "ones",
          "eye", "tensor"}
# random tensors: every element must be written before it is read, so a program can only use
# them as a buffer; ``zeros`` buffers stand for them here
NOT_GENERATED = {"randn": "random values", "rand": "random values", "empty": "random values"}

SHAPES = [(), (2,), (3,), (2, 3), (3, 2), (2, 2)]
CONSTANTS = ["2", "3", "0.5", "1.5", "0.25", "-1", "-0.75", "1.25"]


@dataclass
class E:
    """One expression: jacli's text, PyTorch's text, the guarded PyTorch text, its shape."""

    j: str
    t: str
    g: str
    shape: tuple[int, ...]


@dataclass
class Case:
    """One random program, both ways, with its point and directions (texts and floats)."""

    seed: int
    jacli: str  # the program in jacli's language
    torch: str  # ``def f(<vars>):`` in plain PyTorch, returning the output tensor
    guarded: str  # the same with margin guards, ``def g(<vars>):``
    names: list[str]
    shapes: dict[str, tuple[int, ...]]
    point: dict[str, object]  # nested lists of decimal texts
    scalar: bool  # the output is 0-d: hessian and grad apply
    v: list[str] | None = None  # vᵀJ weights (non-scalar output)
    u: list[str] = field(default_factory=list)  # J u direction, one per input element

    def at(self) -> tuple[str, ...]:
        return tuple(f"{n}={_text(self.point[n])}" for n in self.names)


def _text(value) -> str:
    return "[" + ",".join(_text(v) for v in value) + "]" if isinstance(value, list) else value


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _torch_shape(shape) -> str:
    return "(" + "".join(f"{s}, " for s in shape).rstrip(" ") + ")" if shape else "()"


class Gen:
    """Builds one random program; ``rng`` decides everything."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vars: dict[str, tuple[int, ...]] = {}
        self.names: list[E] = []  # variables and intermediates, usable as leaves
        self.j_lines: list[str] = []
        self.t_lines: list[str] = []
        self.g_lines: list[str] = []
        self.count = 0

    # -- leaves ---------------------------------------------------------------------------
    def leaf(self, shape) -> E:
        """A name of this shape; else one made from a variable (broadcast, reshaped or
        summed); rarely a constant tensor."""
        rng = self.rng
        same = [e for e in self.names if e.shape == shape]
        if same and rng.random() < 0.9:  # intermediates twice as often as variables
            return rng.choice(same + [e for e in same if e.j.startswith("t")])
        if rng.random() < 0.15:
            return self.constant_tensor(shape)
        src = rng.choice(self.names)
        if src.shape == shape:
            return src
        if _numel(src.shape) == _numel(shape) and shape:
            dims = _torch_shape(shape)
            return E(f"{src.j}.reshape{dims}", f"{src.t}.reshape({dims})",
                     f"{src.g}.reshape({dims})", shape)
        if src.shape:
            j = rng.choice([f"{src.j}.sum()", f"{src.j}.mean()", f"torch.sum({src.j})"])
            t = f"torch.mean({src.t})" if ".mean" in j else f"torch.sum({src.t})"
            g = f"torch.mean({src.g})" if ".mean" in j else f"torch.sum({src.g})"
            src = E(j, t, g, ())
        if not shape:
            return src
        return self.binary_with(src, self.constant_tensor(shape, ones=True), "*")

    def constant_tensor(self, shape, ones: bool = False) -> E:
        rng = self.rng
        if not shape:
            c = str(float(rng.choice(CONSTANTS)))
            return E(rng.choice([f"tensor({c})", f"torch.tensor({c})"]),
                     f"torch.tensor({c}, dtype=torch.float64)",
                     f"torch.tensor({c}, dtype=torch.float64)", ())
        if ones or rng.random() < 0.5:
            fn = "ones" if ones or rng.random() < 0.7 else "zeros"
            dims = ", ".join(map(str, shape))
            j = rng.choice([f"{fn}({dims})", f"torch.{fn}({dims})", f"torch.{fn}({dims}, dtype=torch.float64)"])
            t = f"torch.{fn}({_torch_shape(shape)}, dtype=torch.float64)"
            return E(j, t, t, shape)
        data = self.data(shape)
        j = rng.choice([f"tensor({data})", f"torch.tensor({data})"])
        t = f"torch.tensor({data}, dtype=torch.float64)"
        return E(j, t, t, shape)

    def data(self, shape) -> str:
        if not shape:
            return str(float(self.rng.choice(CONSTANTS)))
        return "[" + ", ".join(self.data(shape[1:]) for _ in range(shape[0])) + "]"

    # -- expressions ----------------------------------------------------------------------
    def expr(self, shape, depth: int, top: bool = False) -> E:
        rng = self.rng
        if depth <= 0 or (not top and rng.random() < 0.2):
            return self.leaf(shape)
        makers = [self.unary, self.unary, self.binary, self.binary, self.scaled]
        if shape == ():
            makers += [self.reduce_all, self.reduce_all, self.index_scalar, self.dot]
        if len(shape) <= 1:
            makers += [self.reduce_dim, self.index_row, self.matvec]
        if len(shape) == 2:
            makers += [self.transposed, self.matmat, self.stacked]
        if shape:
            makers += [self.reshaped, self.maxmin, self.detached]
        if len(shape) == 1:
            makers += [self.concatenated] + ([self.squeezed] if 1 not in shape else [])
        return rng.choice(makers)(shape, depth - 1)

    def unary(self, shape, depth) -> E:
        rng = self.rng
        name = rng.choice(sorted(UNARY))
        torch_f, guard, _ = UNARY[name]
        arg = self.shaped_for(guard, shape, depth)
        return self.call(name, torch_f, guard, arg)

    def call(self, name, torch_f, guard, arg: E) -> E:
        rng = self.rng
        spellings = [f"{name}({arg.j})", f"torch.{name}({arg.j})"]
        if name not in NOT_METHODS:
            spellings.append(f"({arg.j}).{name}()")
        if name in ("softplus", "relu", "sigmoid", "tanh"):
            spellings.append(f"F.{name}({arg.j})")
        g_arg = f"_m({arg.g}, {guard!r})" if guard else arg.g
        return E(rng.choice(spellings), f"{torch_f}({arg.t})", f"{torch_f}({g_arg})", arg.shape)

    def shaped_for(self, guard, shape, depth) -> E:
        """An argument for a function with this guard: often made to lie in its domain."""
        rng = self.rng
        e = self.expr(shape, depth)
        if guard is None or rng.random() < 0.35:
            return e
        if guard in ("pos", "nz"):
            return rng.choice([self.wrap1(e, "exp"), self.plus_square(e, "0.5"),
                               self.wrap1(e, "sigmoid"), self.wrap1(e, "cosh")])
        if guard == "gt1":
            return rng.choice([self.plus_square(e, "1.25"), self.wrap1(e, "cosh", plus="0.25")])
        if guard == "unit":
            return rng.choice([self.times(self.wrap1(e, "tanh"), "0.75"),
                               self.times(self.wrap1(e, "sin"), "0.75")])
        return self.times(self.wrap1(e, "tanh"), "1.25")  # tan: |x| < 1.25 < pi/2

    def wrap1(self, e: E, name: str, plus: str | None = None) -> E:
        torch_f = UNARY[name][0]
        w = self.call(name, torch_f, None, e)
        return self.binary_with(w, self.const(plus), "+") if plus else w

    def plus_square(self, e: E, c: str) -> E:
        sq = E(f"({e.j})**2", f"({e.t})**2", f"({e.g})**2", e.shape)
        return self.binary_with(sq, self.const(c), "+")

    def times(self, e: E, c: str) -> E:
        return self.binary_with(self.const(c), e, "*")

    def const(self, c: str) -> E:
        return E(c, c, c, ())

    def binary_with(self, a: E, b: E, op: str, j_op: str | None = None) -> E:
        shape = a.shape if len(a.shape) >= len(b.shape) else b.shape
        jo = j_op or op
        return E(f"({a.j} {jo} {b.j})", f"({a.t} {op} {b.t})", f"({a.g} {op} {b.g})", shape)

    def operand(self, shape, depth) -> E:
        """An operand broadcasting to ``shape``: that shape, a trailing part, or a scalar."""
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return self.const(rng.choice(CONSTANTS))
        if r < 0.3 and shape:
            return self.expr(shape[1:] if rng.random() < 0.5 else (), depth)
        return self.expr(shape, depth)

    def binary(self, shape, depth) -> E:
        rng = self.rng
        a = self.expr(shape, depth)
        op = rng.choice(["+", "-", "*", "/", "**"])
        if op == "**":
            k = rng.choice(["2", "3", "0.5", "-1", "1.5", "x"])
            if k == "x":  # a tensor exponent: PyTorch's pow(a, b), a > 0
                base = self.shaped_for("pos", shape, depth)
                b = self.operand(shape, depth)
                j = rng.choice([f"pow({base.j}, {b.j})", f"torch.pow({base.j}, {b.j})",
                                f"({base.j} ** {b.j})", f"({base.j} ^ {b.j})"])
                return E(j, f"torch.pow({base.t}, {b.t})",
                         f"torch.pow(_m({base.g}, 'pos'), {b.g})", shape)
            guard = {"0.5": "pos", "1.5": "pos", "-1": "nz"}.get(k)
            base = self.shaped_for(guard, shape, depth) if guard else a
            g = f"_m({base.g}, {guard!r})" if guard else base.g
            j = rng.choice([f"({base.j} ** {k})", f"({base.j} ^ {k})", f"({base.j}).pow({k})"])
            return E(j, f"({base.t} ** {k})", f"({g} ** {k})", shape)
        b = self.operand(shape, depth)
        if rng.random() < 0.5:
            a, b = b, a
        if op == "/":
            if b.j != b.t and rng.random() < 0.6:  # not a constant: often kept off zero
                b = self.shaped_for("nz", b.shape, depth)
            return E(f"({a.j} / {b.j})", f"({a.t} / {b.t})", f"({a.g} / _m({b.g}, 'nz'))",
                     shape)
        e = self.binary_with(a, b, op)
        e.shape = shape
        return e

    def scaled(self, shape, depth) -> E:
        e = self.expr(shape, depth)
        return E(f"(-{e.j})", f"(-{e.t})", f"(-{e.g})", shape)

    def maxmin(self, shape, depth) -> E:
        rng = self.rng
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        name = rng.choice(["maximum", "minimum"])
        short = name[:3]
        j = rng.choice([f"{name}({a.j}, {b.j})", f"torch.{name}({a.j}, {b.j})",
                        f"torch.{short}({a.j}, {b.j})", f"{short}({a.j}, {b.j})"])
        return E(j, f"torch.{name}({a.t}, {b.t})", f"torch.{name}(_tie({a.g}, {b.g}), {b.g})",
                 shape)

    def detached(self, shape, depth) -> E:
        rng = self.rng
        e = self.expr(shape, depth)
        d = rng.choice([f"detach({e.j})", f"({e.j}).detach()", f"torch.detach({e.j})"])
        other = self.expr(shape, depth)
        return E(f"({d} * {other.j})", f"(({e.t}).detach() * {other.t})",
                 f"(({e.g}).detach() * {other.g})", shape)

    # -- reductions -----------------------------------------------------------------------
    def reduce_all(self, shape, depth) -> E:
        rng = self.rng
        src = self.expr(rng.choice([s for s in SHAPES if s]), depth)
        name = rng.choice(sorted(REDUCTIONS) + ["norm"])
        if name == "norm":
            j = rng.choice([f"norm({src.j})", f"({src.j}).norm()", f"torch.norm({src.j})"])
            t = f"torch.linalg.vector_norm({src.t})"
            return E(j, t, f"_m(torch.linalg.vector_norm({src.g}), 'nz')", ())
        j = rng.choice([f"{name}({src.j})", f"({src.j}).{name}()", f"torch.{name}({src.j})"])
        if name in ("amax", "amin"):
            j = rng.choice([j, f"({src.j}).{name[1:]}()", f"torch.{name[1:]}({src.j})"])
            return E(j, f"torch.{name}({src.t})", f"torch.{name}(_gap({src.g}, None))", ())
        return E(j, f"torch.{name}({src.t})", f"torch.{name}({src.g})", ())

    def reduce_dim(self, shape, depth) -> E:
        """A reduction along one dim of a tensor one dim larger (keepdim=False)."""
        rng = self.rng
        dim = rng.randrange(len(shape) + 1)
        size = rng.choice([2, 3])
        src_shape = shape[:dim] + (size,) + shape[dim:]
        src = self.expr(src_shape, depth)
        name = rng.choice(sorted(REDUCTIONS))
        d = rng.choice([str(dim), str(dim - len(src_shape))])
        j = rng.choice([f"{name}({src.j}, dim={d})", f"({src.j}).{name}({d})",
                        f"torch.{name}({src.j}, {d})", f"({src.j}).{name}(dim={d}, keepdim=False)",
                        f"torch.{name}({src.j}, axis={d})"])
        t = f"torch.{name}({src.t}, dim={dim})"
        g = (f"torch.{name}(_gap({src.g}, {dim}), dim={dim})" if name in ("amax", "amin")
             else f"torch.{name}({src.g}, dim={dim})")
        e = E(j, t, g, shape)
        if rng.random() < 0.3:  # keepdim=True, then drop the kept axis by indexing
            j2 = f"{name}({src.j}, dim={d}, keepdim=True)"
            t2 = f"torch.{name}({src.t}, dim={dim}, keepdim=True)"
            g2 = g[:-1] + ", keepdim=True)"
            idx = ", ".join([":"] * dim + ["0"])
            e = E(f"{j2}[{idx}]", f"{t2}[{idx}]", f"{g2}[{idx}]", shape)
        return e

    # -- indexing and shapes --------------------------------------------------------------
    def index_scalar(self, shape, depth) -> E:
        rng = self.rng
        src_shape = rng.choice([s for s in SHAPES if s])
        src = self.expr(src_shape, depth)
        idx = [rng.randrange(-n, n) for n in src_shape]
        j = rng.choice([f"({src.j})[{', '.join(map(str, idx))}]",
                        f"({src.j})" + "".join(f"[{i}]" for i in idx)])
        tail = f"[{', '.join(map(str, idx))}]"
        return E(j, f"({src.t}){tail}", f"({src.g}){tail}", ())

    def index_row(self, shape, depth) -> E:
        """``shape`` cut out of a larger tensor: a row, a column, or a slice."""
        rng = self.rng
        if not shape:
            return self.index_scalar(shape, depth)
        n = shape[0]
        choice = rng.random()
        if choice < 0.4:  # a row of an (m, n) matrix
            m = rng.choice([2, 3])
            src, tail = self.expr((m, n), depth), f"[{rng.randrange(-m, m)}]"
        elif choice < 0.7:  # a column of an (n, m) matrix
            m = rng.choice([2, 3])
            c = rng.randrange(m)
            src, tail = self.expr((n, m), depth), rng.choice([f"[:, {c}]", f"[..., {c}]"])
        else:  # a slice of a longer vector
            src = self.expr((n + 1,), depth) if n + 1 <= 3 else self.expr((n,), depth)
            tail = rng.choice(["[1:]", f"[:{n}]", f"[-{n}:]"]) if src.shape[0] > n else "[:]"
        return E(f"({src.j}){tail}", f"({src.t}){tail}", f"({src.g}){tail}", shape)

    def transposed(self, shape, depth) -> E:
        rng = self.rng
        src = self.expr(shape[::-1], depth)
        j = rng.choice([f"({src.j}).T", f"({src.j}).t()", f"torch.t({src.j})",
                        f"({src.j}).transpose(0, 1)", f"torch.transpose({src.j}, 1, 0)",
                        f"({src.j}).mT"])
        return E(j, f"({src.t}).T", f"({src.g}).T", shape)

    def reshaped(self, shape, depth) -> E:
        rng = self.rng
        n = _numel(shape)
        sources = [s for s in SHAPES if _numel(s) == n and s != shape] or [shape]
        src = self.expr(rng.choice(sources), depth)
        dims = ", ".join(map(str, shape))
        # PyTorch's view needs compatible strides (a transposed tensor has none): the PyTorch
        # text uses the same call, so where PyTorch refuses, jacli must refuse too
        if len(shape) == 1:
            spellings = [(f"({src.j}).view({dims})", f".view({dims})"),
                         (f"({src.j}).reshape(-1)", ".reshape(-1)"),
                         (f"({src.j}).flatten()", ".flatten()"),
                         (f"torch.flatten({src.j})", ".flatten()"),
                         (f"({src.j}).view(-1)", ".view(-1)")]
        else:
            spellings = [(f"({src.j}).view({dims})", f".view({dims})"),
                         (f"({src.j}).reshape({dims})", f".reshape({dims})"),
                         (f"({src.j}).view(({dims}))", f".view({dims})"),
                         (f"torch.reshape({src.j}, ({dims}))", f".reshape({dims})"),
                         (f"({src.j}).view(-1, {shape[-1]})", f".view(-1, {shape[-1]})")]
        j, call = rng.choice(spellings)
        return E(j, f"({src.t}){call}", f"({src.g}){call}", shape)

    def squeezed(self, shape, depth) -> E:
        rng = self.rng
        src = self.expr(shape, depth)
        d = rng.choice([0, 1])
        j = rng.choice([f"({src.j}).unsqueeze({d}).squeeze()",
                        f"torch.squeeze(torch.unsqueeze({src.j}, {d}))"])
        t = f"({src.t}).unsqueeze({d}).squeeze()"
        return E(j, t, f"({src.g}).unsqueeze({d}).squeeze()", shape)

    def stacked(self, shape, depth) -> E:
        rng = self.rng
        dim = rng.choice([0, 1])
        k, n = shape[dim], shape[1 - dim]
        parts = [self.expr((n,), depth) for _ in range(k)]
        d = rng.choice([f"dim={dim}", str(dim)]) if dim else rng.choice(["", "dim=0", "0"])
        sep = f", {d}" if d else ""
        j = f"torch.stack([{', '.join(p.j for p in parts)}]{sep})"
        t = f"torch.stack([{', '.join(p.t for p in parts)}], dim={dim})"
        g = f"torch.stack([{', '.join(p.g for p in parts)}], dim={dim})"
        return E(rng.choice([j, j.replace("torch.stack", "stack")]), t, g, shape)

    def concatenated(self, shape, depth) -> E:
        rng = self.rng
        n = shape[0]
        if n < 2:
            return self.expr(shape, depth)
        cut = rng.randrange(1, n)
        a, b = self.expr((cut,), depth), self.expr((n - cut,), depth)
        j = rng.choice([f"torch.cat([{a.j}, {b.j}])", f"cat([{a.j}, {b.j}], dim=0)",
                        f"torch.cat(({a.j}, {b.j}), 0)"])
        return E(j, f"torch.cat([{a.t}, {b.t}])", f"torch.cat([{a.g}, {b.g}])", shape)

    # -- products -------------------------------------------------------------------------
    def dot(self, shape, depth) -> E:
        rng = self.rng
        n = rng.choice([2, 3])
        a, b = self.expr((n,), depth), self.expr((n,), depth)
        j = rng.choice([f"dot({a.j}, {b.j})", f"torch.dot({a.j}, {b.j})", f"({a.j} @ {b.j})",
                        f"torch.matmul({a.j}, {b.j})"])
        return E(j, f"torch.dot({a.t}, {b.t})", f"torch.dot({a.g}, {b.g})", ())

    def matvec(self, shape, depth) -> E:
        rng = self.rng
        if not shape:
            return self.dot(shape, depth)
        k = rng.choice([2, 3])
        if rng.random() < 0.5:
            a, b = self.expr((shape[0], k), depth), self.expr((k,), depth)
            j = rng.choice([f"({a.j} @ {b.j})", f"mv({a.j}, {b.j})", f"torch.mv({a.j}, {b.j})",
                            f"torch.matmul({a.j}, {b.j})"])
        else:
            a, b = self.expr((k,), depth), self.expr((k, shape[0]), depth)
            j = rng.choice([f"({a.j} @ {b.j})", f"torch.matmul({a.j}, {b.j})"])
        return E(j, f"torch.matmul({a.t}, {b.t})", f"torch.matmul({a.g}, {b.g})", shape)

    def matmat(self, shape, depth) -> E:
        rng = self.rng
        k = rng.choice([2, 3])
        a, b = self.expr((shape[0], k), depth), self.expr((k, shape[1]), depth)
        if rng.random() < 0.1:
            eye = f"eye({shape[0]})"
            return E(f"({eye} @ {a.j} @ {b.j})", f"(torch.eye({shape[0]}, dtype=torch.float64) "
                     f"@ {a.t} @ {b.t})", f"(torch.eye({shape[0]}, dtype=torch.float64) @ {a.g} "
                     f"@ {b.g})", shape)
        j = rng.choice([f"({a.j} @ {b.j})", f"mm({a.j}, {b.j})", f"torch.mm({a.j}, {b.j})",
                        f"matmul({a.j}, {b.j})"])
        return E(j, f"torch.mm({a.t}, {b.t})", f"torch.mm({a.g}, {b.g})", shape)

    # -- statements -----------------------------------------------------------------------
    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def assign(self, shape, depth) -> None:
        """``tK = expr``, sometimes inside ``with torch.no_grad():``."""
        name = self.fresh()
        e = self.expr(shape, depth)
        if self.rng.random() < 0.15:
            self.emit(["with torch.no_grad():", f"    {name} = {e.j}"],
                      ["with torch.no_grad():", f"    {name} = {e.t}"],
                      ["with torch.no_grad():", f"    {name} = {e.g}"])
        else:
            self.emit([f"{name} = {e.j}"], [f"{name} = {e.t}"], [f"{name} = {e.g}"])
            if self.rng.random() < 0.2:  # in place: PyTorch refuses it where autograd saved
                op = self.rng.choice(["+=", "-=", "*="])  # the old value (exp, a leaf, ...)
                d = self.operand(shape, depth - 1)
                self.emit([f"{name} {op} {d.j}"], [f"{name} {op} {d.t}"],
                          [f"{name} {op} {d.g}"])
        self.names.append(E(name, name, name, shape))

    def buffer(self, shape, depth) -> None:
        """``b = zeros(shape)`` (or a clone) written by subscript assignment, as in PyTorch."""
        rng = self.rng
        name = self.fresh()
        same = [e for e in self.names if e.shape == shape]
        if same and rng.random() < 0.4:
            src = rng.choice(same)
            j0, t0 = rng.choice([f"{src.j}.clone()", f"torch.clone({src.j})"]), f"{src.t}.clone()"
        else:
            fn = rng.choice(["zeros", "ones"])
            dims = ", ".join(map(str, shape))
            j0 = rng.choice([f"{fn}({dims})", f"torch.{fn}({dims})"])
            t0 = f"torch.{fn}({_torch_shape(shape)}, dtype=torch.float64)"
        js, ts, gs = [f"{name} = {j0}"], [f"{name} = {t0}"], [f"{name} = {t0}"]
        for _ in range(rng.choice([1, 1, 2])):
            index, sub = self.subscript(shape)
            value = self.expr(sub, depth) if rng.random() < 0.8 else self.expr((), depth)
            js.append(f"{name}[{index}] = {value.j}")
            ts.append(f"{name}[{index}] = {value.t}")
            gs.append(f"{name}[{index}] = {value.g}")
        self.emit(js, ts, gs)
        self.names.append(E(name, name, name, shape))

    def subscript(self, shape) -> tuple[str, tuple[int, ...]]:
        """An index into ``shape`` and the shape it selects."""
        rng = self.rng
        if len(shape) == 1:
            n = shape[0]
            return rng.choice([(str(rng.randrange(n)), ()), ("1:", (n - 1,)),
                               (f":{n - 1}", (n - 1,)), (":", (n,))])
        m, n = shape
        return rng.choice([(str(rng.randrange(m)), (n,)), (f":, {rng.randrange(n)}", (m,)),
                           (f"{rng.randrange(m)}, {rng.randrange(n)}", ()),
                           ("1:, :", (m - 1, n))])

    def emit(self, j, t, g) -> None:
        self.j_lines += j
        self.t_lines += t
        self.g_lines += g


def _broadcast(a, b):
    return a if len(a) >= len(b) else b


def _value(rng: random.Random, shape):
    if not shape:
        return rng.choice([f"{rng.uniform(-1.8, 1.8):.2f}", f"{rng.uniform(0.2, 1.6):.3f}",
                           f"-{rng.uniform(0.2, 1.6):.3f}"]).replace("-0.00", "0.01")
    return [_value(rng, shape[1:]) for _ in range(shape[0])]


VAR_NAMES = ["x", "y", "w", "a", "b2", "x1", "x2", "z"]


def generate(seed: int) -> Case:
    """The random program number ``seed``: the same seed always gives the same case."""
    rng = random.Random(seed)
    while True:  # a program that uses none of its variables is drawn again
        case = _attempt(seed, rng)
        if case is not None:
            return case


def _attempt(seed: int, rng: random.Random) -> Case | None:
    g = Gen(rng)
    total = 0
    for name in rng.sample(VAR_NAMES, rng.choice([1, 1, 2, 2, 3])):
        fits = [s for s in SHAPES if total + _numel(s) <= 8]
        if not fits:
            break
        shape = rng.choice(fits)
        total += _numel(shape)
        g.vars[name] = shape
        g.names.append(E(name, name, name, shape))
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        shape = rng.choice(SHAPES)
        (g.buffer if rng.random() < 0.3 and shape else g.assign)(shape, rng.choice([1, 2, 3]))
    scalar = rng.random() < 0.45
    out = g.expr(() if scalar else rng.choice([s for s in SHAPES if s]), rng.choice([2, 3, 3]),
                 top=True)
    if scalar and out.shape != ():
        out = E(f"({out.j}).sum()", f"({out.t}).sum()", f"({out.g}).sum()", ())
    g.j_lines.append(out.j)
    text = "\n".join(g.j_lines)
    # jacli's variables are the free names the program uses; an unused one is refused
    names = [n for n in g.vars if re.search(rf"\b{n}\b", text)]
    if not names:
        return None
    sig = ", ".join(names)
    torch_src = "\n".join([f"def f({sig}):", *("    " + s for s in g.t_lines),
                           f"    return {out.t}"])
    guarded = "\n".join([f"def g({sig}):", *("    " + s for s in g.g_lines),
                         f"    return {out.g}"])
    point = {n: _value(rng, g.vars[n]) for n in names}
    shapes = {n: g.vars[n] for n in names}
    case = Case(seed, text, torch_src, guarded, names, shapes, point, scalar)
    case.u = [rng.choice(CONSTANTS) for _ in range(sum(_numel(s) for s in shapes.values()))]
    if not scalar:
        case.v = [rng.choice(CONSTANTS) for _ in range(_numel(out.shape))]
    return case


# -- the PyTorch side ----------------------------------------------------------------------

MARGIN = 0.05  # how far from a domain edge, pole, kink or tie a compared point must be
LARGEST = 1e6  # values or derivatives past this are not compared (relative rounding grows)


class Rejected(Exception):
    """The case's point is too close to an edge, or its numbers too large, to compare."""


class TorchRefuses(Exception):
    """PyTorch raises on the program (e.g. ``view`` of a transposed tensor): jacli must
    refuse it too."""


def _margins():
    """The guards ``g`` calls, and the list they fill with distances."""
    import torch

    found: list[float] = []

    def _m(x, kind):
        t = torch.as_tensor(x, dtype=torch.float64)
        m = {"pos": lambda: t.min(), "unit": lambda: 1 - t.abs().max(),
             "gt1": lambda: t.min() - 1, "nz": lambda: t.abs().min(),
             "cos": lambda: torch.cos(t).abs().min()}[kind]()
        found.append(float(m))
        return x

    def _tie(a, b):
        found.append(float((torch.as_tensor(a) - torch.as_tensor(b)).abs().min()))
        return a

    def _gap(a, dim):
        s = (a.reshape(-1) if dim is None else a.movedim(dim, -1)).sort(dim=-1).values
        found.append(float(torch.minimum((s[..., -1] - s[..., -2]).min(),
                                         (s[..., 1] - s[..., 0]).min())))
        return a

    return {"_m": _m, "_tie": _tie, "_gap": _gap}, found


def _floats(value):
    return [_floats(v) for v in value] if isinstance(value, list) else float(value)


def torch_side(case: Case) -> dict:
    """PyTorch's answers for ``case`` in float64: value, J, vᵀJ, J u, H and H u, each flat
    (J and H row-major). Raises ``Rejected`` when the point is not a fair one."""
    import torch

    guards, found = _margins()
    space = {"torch": torch, **guards}
    exec(case.guarded, space)  # the harness's own generated text, never a user's
    exec(case.torch, space)
    args = [torch.tensor(_floats(case.point[n]), dtype=torch.float64) for n in case.names]
    try:
        with torch.no_grad():
            space["g"](*[a.clone() for a in args])  # clones: a program may write in place
        if found and min(found) < MARGIN:
            raise Rejected(f"margin {min(found):.3g}")
        return _answers(case, space["f"], args)
    except RuntimeError as e:
        raise TorchRefuses(str(e).splitlines()[0]) from None


def _answers(case: Case, f, args) -> dict:
    import torch

    sizes = [a.numel() for a in args]

    def flat(z):
        parts = torch.split(z, sizes)
        return f(*(p.reshape(a.shape) for p, a in zip(parts, args))).reshape(-1)

    z0 = torch.cat([a.reshape(-1) for a in args])
    out = {"value": f(*[a.clone() for a in args]).reshape(-1), "J": torch.autograd.functional.jacobian(flat, z0)}
    u = torch.tensor([float(x) for x in case.u], dtype=torch.float64)
    out["jvp"] = torch.autograd.functional.jvp(flat, z0, u)[1]
    if case.v is not None:  # a scalar output's vᵀJ (v = 1) is J itself
        out["vjp"] = _vjp(f, args, torch.tensor([float(x) for x in case.v],
                                                 dtype=torch.float64))
    if case.scalar:
        H = torch.autograd.functional.hessian(lambda z: flat(z).reshape(()), z0)
        out["H"], out["hvp"] = H, H @ u
    for key, x in out.items():
        if not torch.isfinite(x).all() or (x.abs() > LARGEST).any():
            raise Rejected(f"{key} not finite or larger than {LARGEST:g}")
    return {k: x.reshape(-1).tolist() if k not in ("J", "H") else x.tolist()
            for k, x in out.items()}


def _vjp(f, args, v):
    """What ``y.backward(v)`` leaves in the leaves' ``.grad``, flat: zeros where None."""
    import torch

    leaves = [a.clone().requires_grad_() for a in args]
    y = f(*leaves)
    if not y.requires_grad:
        return torch.zeros(sum(a.numel() for a in args), dtype=torch.float64)
    y.backward(v.reshape(y.shape))
    return torch.cat([(l.grad if l.grad is not None else torch.zeros_like(l)).reshape(-1)
                      for l in leaves])
