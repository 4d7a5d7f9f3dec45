"""A scalar system run in lanes: the scalar operations of one kind at one depth, one call.

A system of scalar variables evaluated as written is one torch call per operation: a
300×300 system (``x{i}**2*x{i+1} + sin(x{i})``) is 1200 calls, ~10 µs each under the vmap
of a vectorised Jacobian, and that is the whole cost of its J. Operations at the same depth
never feed one another, so ``lanes`` groups them by (depth, operation) and runs each group
as one call on a vector gathered from the earlier depths: a dozen calls in all, whatever
the number of outputs. The Jacobian is then taken of this vector function.

The same numbers, bit for bit: each group calls the backend's own function for its
operation (``TorchBackend.binary``/``function``/``operand``, as ``interpret`` does), on a
vector instead of 0-d tensors. That holds where torch's kernels compute a vector and one
element alike, forward and backward: ``+ - * /``, powers, negation and the functions in
``SAFE`` (tests/test_lanes.py checks each against the program run as written, J in both
modes, float64 and float32). ``sigmoid``, ``sinh``, ``cosh``, ``exp2``, ``atanh``,
``softplus``, ``gelu``, ``silu``, ``elu`` round differently in their vector kernels on this
torch: a system using one runs as written, as does anything else (tensors, indexing,
parameters, ``no_grad``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from jacli.backends.functions import TABLE
from jacli.language import ir
from jacli.runtime.interpret import scalar_operand

# elementwise functions whose torch kernels give a vector the bits they give one element
SAFE = frozenset({"sin", "cos", "tan", "asin", "acos", "atan", "tanh", "asinh", "acosh",
                  "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "abs",
                  "square", "relu", "erf", "erfc", "reciprocal", "sign"})
_OPS = frozenset({"add", "sub", "mul", "div", "pow", "neg"})
MIN_OPERATIONS = 32  # below this many scalar operations a system runs as written,
GROUP_COST = 4  # as it does with fewer than this many operations per group


class NotLanes(Exception):
    """The program is not a scalar system ``lanes`` runs: evaluate it as written."""


def lanes(program: ir.Program, backend, names: tuple[str, ...]) -> Callable | None:
    """``f(vector) -> flat output`` computing ``program`` with ``names[i]`` bound to
    ``vector[i]`` (every variable a scalar, all of them in ``names``), or ``None`` when the
    program is not one ``lanes`` runs."""
    try:
        plan = _Plan(backend, names)
        outputs = plan.compile(program)
        shape = plan.shape(program.output)
    except NotLanes:
        return None
    if not plan.pays():
        return None
    f = plan.function(outputs)
    f.shape = shape  # the output's own shape: ``f`` returns it flat
    return f


class _Plan:
    """Scalar nodes (hash-consed), each at a depth; depth 0 is the input vector and the
    constants after it."""

    def __init__(self, backend, names: tuple[str, ...]) -> None:
        self.B = backend
        self.env: dict[str, int] = {name: i for i, name in enumerate(names)}
        self.constants: list[Any] = []  # 0-d tensors, at depth 0 after the inputs
        self.n = len(names)
        self.nodes: list[tuple[int, tuple, tuple[int, ...]]] = []  # (depth, kind, args)
        self.memo: dict[tuple, int] = {}  # (kind, args) -> node id
        self.constant_ids: dict[int, int] = {}  # id(tensor) -> its lane

    # -- compiling ---------------------------------------------------------------------------
    def compile(self, program: ir.Program) -> list[int]:
        for s in program.statements:
            if not isinstance(s, ir.Assign) or s.no_grad:
                raise NotLanes
            self.env[s.name] = self.scalar(s.value)
        return self.flat(program.output)

    def shape(self, node) -> tuple[int, ...]:
        """The output's shape as the backend's ``concat``/``stack`` give it."""
        if isinstance(node, ir.Outputs):
            return (_count(node),)
        if isinstance(node, ir.ListLit):
            inner = {self.shape(item) for item in node.items}
            if len(inner) != 1:
                raise NotLanes  # ragged: torch's own error, from the program as written
            return (len(node.items), *inner.pop())
        return ()

    def flat(self, node) -> list[int]:
        if isinstance(node, (ir.Outputs, ir.ListLit)):
            return [i for item in node.items for i in self.flat(item)]
        return [self.scalar(node)]

    def scalar(self, node) -> int:
        """The id of a scalar node; ``NotLanes`` for anything else."""
        if isinstance(node, ir.Name):
            if node.id not in self.env:
                raise NotLanes
            return self.env[node.id]
        if isinstance(node, ir.Num):
            return self.constant(self.B.constant(node.value))
        if isinstance(node, ir.Const):
            return self.constant(self.B.named_constant(node.id))
        if isinstance(node, ir.Op) and node.op == "pos" and len(node.args) == 1:
            return self.scalar(node.args[0])
        if isinstance(node, ir.Op) and node.op in _OPS:
            return self.op(node)
        if (isinstance(node, ir.Call) and node.fn in SAFE and not node.params
                and len(node.args) == 1 and isinstance(TABLE[node.fn].torch, str)):
            return self.add(("call", node.fn), (self.scalar(node.args[0]),))
        raise NotLanes

    def op(self, node: ir.Op) -> int:
        side = scalar_operand(node, self.B)  # a literal the backend takes as a Python float
        if side is not None:
            i, c = side
            return self.add(("op", node.op, i, c), (self.scalar(node.args[1 - i]),))
        args = tuple(self.scalar(a) for a in node.args)
        if node.op == "pow" and self._constant(args[1]) and not self._constant(args[0]):
            raise NotLanes  # x**p with p a name bound to a literal: a Python exponent
        return self.add(("op", node.op, None, None), args)

    def constant(self, tensor) -> int:
        """A literal's 0-d tensor, at depth 0 after the inputs (the backend makes each
        literal once, so equal literals share a lane)."""
        if id(tensor) not in self.constant_ids:  # kept in ``constants``: its id stays unique
            self.constant_ids[id(tensor)] = self.n + len(self.constants)
            self.constants.append(tensor)
        return self.constant_ids[id(tensor)]

    def _constant(self, i: int) -> bool:
        return self.n <= i < _FIRST

    def add(self, kind: tuple, args: tuple[int, ...]) -> int:
        if all(self._constant(a) for a in args):  # constants fold now, by the very call
            values = [self.constants[a - self.n] for a in args]  # as written (``1.5**2``)
            return self.constant(self._call(kind)(*values))
        key = (kind, args)
        if key not in self.memo:
            depth = 1 + max(self._depth(a) for a in args)
            self.memo[key] = len(self.nodes) + _FIRST
            self.nodes.append((depth, kind, args))
        return self.memo[key]

    def _depth(self, i: int) -> int:
        return self.nodes[i - _FIRST][0] if i >= _FIRST else 0

    def pays(self) -> bool:
        """Whether lanes make fewer torch calls by enough: each group costs a few calls (its
        operation, its gathers, and under vmap each is dearer than a 0-d call), so a small
        system (2×2, 3×3: tens of operations) runs faster as written (bench/)."""
        groups = {(depth, kind) for depth, kind, _ in self.nodes}
        return len(self.nodes) >= max(MIN_OPERATIONS, GROUP_COST * len(groups))

    # -- running -----------------------------------------------------------------------------
    def function(self, outputs: list[int]) -> Callable:
        """The groups in depth order. Values live in sources: 0 the input vector, 1 the
        constants, then each group's output; an operand is read from one source whole (no
        call), as a slice, or gathered (``index_select``) — from a ``cat`` of its sources
        only when it mixes several."""
        import torch

        sizes = [self.n, len(self.constants)]
        where = {i: (0, i) for i in range(self.n)}
        where.update({self.n + j: (1, j) for j in range(len(self.constants))})
        groups: dict[int, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
        for k, (depth, kind, _) in enumerate(self.nodes):
            groups[depth][kind].append(k)
        steps = []
        for depth in sorted(groups):
            for kind, members in groups[depth].items():
                arity = len(self.nodes[members[0]][2])
                reads = [_read([where[self.nodes[k][2][a]] for k in members], sizes, self.B.device)
                         for a in range(arity)]
                steps.append((self._call(kind), reads))
                where.update({k + _FIRST: (len(sizes), j) for j, k in enumerate(members)})
                sizes.append(len(members))
        constants = torch.stack(self.constants) if self.constants else None
        return _runner(steps, constants, _read([where[i] for i in outputs], sizes,
                                               self.B.device))

    def _call(self, kind: tuple) -> Callable:
        """The backend's own function for a group's operation (``interpret``'s choice)."""
        if kind[0] == "call":
            return self.B.function(TABLE[kind[1]])
        _, op, side, c = kind
        if op == "neg":
            return lambda a: self.B.op("neg", a)
        fn = self.B.binary(op)
        if side is None:
            return fn
        return (lambda a: fn(c, a)) if side == 0 else (lambda a: fn(a, c))


_FIRST = 1 << 40  # node ids start here: below are the inputs, then the constants


def _count(node) -> int:
    """The scalars of a comma list or list literal, nested lists flattened."""
    if isinstance(node, (ir.Outputs, ir.ListLit)):
        return sum(_count(item) for item in node.items)
    return 1


def _read(places: list[tuple[int, int]], sizes: list[int], device) -> Callable:
    """A function of the sources' values giving the vector of ``places`` (source, position)."""
    import torch

    sources = sorted({s for s, _ in places})
    offset = dict(zip(sources, [sum(sizes[s] for s in sources[:i]) for i in range(len(sources))]))
    positions = [offset[s] + p for s, p in places]
    whole = sum(sizes[s] for s in sources)
    first = positions[0]
    if len(sources) == 1:
        (s,) = sources
        if positions == list(range(whole)):
            return lambda values: values[s]
        if positions == list(range(first, first + len(positions))):
            return lambda values: values[s].narrow(0, first, len(positions))
        index = torch.tensor(positions, device=device)
        return lambda values: values[s].index_select(0, index)
    index = torch.tensor(positions, device=device)
    if positions == list(range(whole)):
        return lambda values: torch.cat([values[s] for s in sources])
    return lambda values: torch.cat([values[s] for s in sources]).index_select(0, index)


def _runner(steps: list, constants, output: Callable) -> Callable:
    def f(vector):
        values = [vector, constants]
        for call, reads in steps:
            values.append(call(*[read(values) for read in reads]))
        return output(values)

    return f
