"""One interpreter, two backends: a ``Program`` lowered to Python closures, run on SymPy arrays
or on tensors.

``lower`` walks the IR once and returns a function of the variables' values; every operation
is delegated to a backend (``SymbolicBackend`` or ``TorchBackend``), never told apart. Lowering matters because a Jacobian evaluates the program
many times (forward, batched backward, finite differences, N points): walking the IR on every
call cost 1.2–1.5× the same function written by hand in PyTorch (measured in bench/), while a
closure per node costs what the hand-written code costs — one Python call per operation.

Two flavours of the same lowering:

* ``guarded=True``: every node turns a backend complaint (broadcasting, bad index, view of the
  wrong size) into a ``ShapeError`` pointing at that node. ``run`` uses it.
* ``guarded=False``: no per-node ``try``. ``evaluator`` runs this and, only when it fails,
  runs the guarded flavour to name the node that failed.

Both hand a literal operand of a binary operator to the backend as it takes it best (torch: a
Python float, as in ``2*x`` written by hand; ``SCALAR_SIDES``), so they compute alike, bit
for bit; only the ``try`` differs.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Protocol

from jacli.errors import JacliError, LimitError, ShapeError
from jacli.backends.functions import TABLE
from jacli.language import ir
from jacli.runtime.lru import Lru

Env = dict[str, Any]
Thunk = Callable[[Env], Any]
LOWERED = Lru(64)  # lowerings shared across requests (the API in a loop, batch): compiled()

# which operand of a binary operator may be a Python scalar without changing torch's arithmetic:
# c/x would become x.reciprocal()*c (not correctly rounded) and c**x would take a float64
# log(c) beside float32 values, so those literals stay tensors
SCALAR_SIDES = {"add": (0, 1), "sub": (0, 1), "mul": (0, 1), "div": (1,), "pow": (1,)}

# what a backend raises for input it cannot compute with; anything else (JacliError, a
# budget's OutOfTime, KeyboardInterrupt) passes straight through
BACKEND_ERRORS = (ValueError, IndexError, KeyError, RuntimeError, TypeError, MemoryError)


class Backend(Protocol):
    """What the interpreter needs from a backend; values are its own array type.

    ``binary(op)`` is the two-argument function of ``op`` and ``function(row)`` the meaning
    of a function-table row with the backend bound (operands, then parameters by name), both
    resolved once per node; ``operand(value)`` turns a literal into what ``binary`` takes
    best beside another operand (``SCALAR_SIDES``)."""

    def constant(self, value) -> Any: ...
    def named_constant(self, name: str) -> Any: ...
    def stack(self, items: list) -> Any: ...
    def concat(self, items: list) -> Any: ...
    def op(self, op: str, *args) -> Any: ...
    def binary(self, op: str) -> Callable: ...
    def function(self, row) -> Callable: ...
    def operand(self, value) -> Any: ...
    def index(self, value, index: tuple) -> Any: ...
    def setitem(self, value, index: tuple, item) -> Any: ...
    def stop_gradient(self, value) -> Any: ...
    def shape(self, value) -> tuple[int, ...]: ...


def run(program: ir.Program, backend: Backend, bindings: Env, node: ir.Node | None = None) -> Any:
    """Run the statements with ``bindings`` for the variables; return the output value (or the
    value of ``node`` evaluated after the statements, e.g. ``backward(v)``'s ``v``). Errors
    are positioned: this is the guarded flavour."""
    return lower(program, backend, guarded=True, node=node)(bindings)


def evaluator(program: ir.Program, backend: Backend) -> Callable[[Env], Any]:
    """The output as a fast function of the bindings, for evaluating one program many times.
    A failure is re-run guarded, so the error still names the node (or, if the guarded run
    succeeds after all, its value is returned)."""
    fast = lower(program, backend, guarded=False)
    guarded: list[Callable[[Env], Any]] = []

    def evaluate(bindings: Env) -> Any:
        try:
            return fast(bindings)
        except BACKEND_ERRORS:
            pass  # leave the except block first: the guarded error must not chain to this one
        if not guarded:
            guarded.append(lower(program, backend, guarded=True))
        return guarded[0](bindings)

    return evaluate


def compiled(program: ir.Program, backend: Backend) -> Callable[[Env], Any]:
    """``evaluator(program, backend)``, lowered once per backend and program (``lowered`` keeps
    the program beside its function, so its ``id`` stays unique); backends with an equal
    ``share_key`` (alike, stateless) also share it across requests, in the bounded ``LOWERED``."""
    entry = backend.lowered.get(id(program))
    if entry is None:
        key = (id(program), getattr(backend, "share_key", None))
        entry = LOWERED.get(key) if key[1] is not None else None
        if entry is None:
            entry = (program, evaluator(program, backend))
            if key[1] is not None:
                LOWERED.put(key, entry)
        backend.lowered[id(program)] = entry
    return entry[1]


def lower(program: ir.Program, backend: Backend, *, guarded: bool,
          node: ir.Node | None = None) -> Callable[[Env], Any]:
    """Compile ``program`` (statements, then ``node`` or the output) to one function of the
    bindings (variable name → backend value). Lowering itself never touches a value."""
    lowering = _Lowering(backend, guarded)
    steps = [lowering.statement(s) for s in program.statements]
    result = lowering.node(program.output if node is None else node)

    def evaluate(bindings: Env) -> Any:
        env = dict(bindings)
        try:
            for step in steps:
                step(env)
            return result(env)
        except ShapeError as e:
            e.source = e.source or program.source  # so the message can show the caret line
            raise

    return evaluate


class _Lowering:
    """Node → closure ``Env -> value``, one method per IR node type."""

    def __init__(self, backend: Backend, guarded: bool) -> None:
        self.B = backend
        self.guarded = guarded

    def statement(self, stmt: ir.Statement) -> Callable[[Env], None]:
        value, name = self.node(stmt.value), stmt.name
        stop = self.B.stop_gradient if stmt.no_grad else None
        if isinstance(stmt, ir.SetItem):
            setitem, index, pos = self.B.setitem, stmt.index, stmt.pos
            put = self._guarded(pos, setitem)
        else:
            put = None

        def step(env: Env) -> None:
            v = value(env)
            if stop is not None:
                v = stop(v)
            env[name] = v if put is None else put(env[name], index, v)

        return step

    def node(self, node: ir.Node) -> Thunk:
        return getattr(self, type(node).__name__)(node)

    # -- leaves ---------------------------------------------------------------------------
    def Num(self, node: ir.Num) -> Thunk:
        c = self.B.constant(node.value)  # made once: values are never written in place
        return lambda env: c

    def Const(self, node: ir.Const) -> Thunk:
        c = self.B.named_constant(node.id)
        return lambda env: c

    def Name(self, node: ir.Name) -> Thunk:
        key = node.id
        if not self.guarded:
            return lambda env: env[key]

        def name(env: Env) -> Any:
            if key not in env:  # the parser only lets through names it has seen bound
                raise ShapeError(f"{key!r} has no value", line=node.pos[0], column=node.pos[1])
            return env[key]

        return name

    # -- operations -----------------------------------------------------------------------
    def Op(self, node: ir.Op) -> Thunk:
        args = [self.node(a) for a in node.args]
        fn = self.B.binary(node.op) if len(args) == 2 else partial(self.B.op, node.op)
        scalar = scalar_operand(node, self.B)
        if scalar is not None and not self.guarded:  # the fast path: 2*x as one closure
            i, c, other = *scalar, args[1 - scalar[0]]
            return (lambda env: fn(c, other(env))) if i == 0 else (lambda env: fn(other(env), c))
        if scalar is not None:
            i, c = scalar
            args[i] = lambda env: c
        if not self.guarded:
            return _call(fn, args)
        return self._guarded_call(node.pos, fn, args, lambda vals: f"{node.op} of shapes " +
                                  " and ".join(str(tuple(getattr(v, "shape", ()))) for v in vals))

    def Call(self, node: ir.Call) -> Thunk:
        row = TABLE[node.fn]
        params = dict(node.params)
        shape = params.pop("*shape", ())
        fn = self.B.function(row)
        fn = partial(fn, **params) if params else fn
        if row.tensors[0] == -1:  # stack([a, b]): one list of tensors, each evaluated on its own
            items = [self.node(item) for item in node.args[0].items]
            args = [lambda env: [item(env) for item in items]]
        else:
            args = [self.node(a) for a in node.args]
        if shape:
            fn = _with_shape(fn, shape)
        if self.guarded:
            return self._guarded_call(node.pos, fn, args)
        return _call(fn, args)

    def Index(self, node: ir.Index) -> Thunk:
        base, index = self.node(node.base), node.index
        get = self._guarded(node.pos, self.B.index)
        return lambda env: get(base(env), index)

    def ListLit(self, node: ir.ListLit) -> Thunk:
        return self._items(node, self.B.stack)

    def Outputs(self, node: ir.Outputs) -> Thunk:
        return self._items(node, self.B.concat)

    # -- helpers --------------------------------------------------------------------------
    def _items(self, node, combine) -> Thunk:
        items = [self.node(i) for i in node.items]
        combine = self._guarded(node.pos, combine)
        return lambda env: combine([item(env) for item in items])

    def _guarded(self, pos: ir.Pos, fn: Callable) -> Callable:
        """``fn`` itself, or ``fn`` with its backend errors positioned at ``pos``."""
        if not self.guarded:
            return fn
        return lambda *args: _guard(pos, lambda: fn(*args))

    def _guarded_call(self, pos: ir.Pos, fn: Callable, args: list[Thunk], what=None) -> Thunk:
        def call(env: Env) -> Any:
            vals = [a(env) for a in args]
            return _guard(pos, lambda: fn(*vals), what and (lambda: what(vals)))

        return call


def scalar_operand(node: ir.Op, backend: Backend) -> tuple[int, Any] | None:
    """(side, value) when one operand is a literal the backend takes as a scalar (torch:
    a Python float, as in hand-written ``2*x``, ``x/4``, ``x**-2``) with the same
    arithmetic; both flavours use it (and ``lanes``), so they compute alike bit for bit."""
    if len(node.args) != 2:
        return None
    literals = [_literal(a) for a in node.args]
    sides = [i for i in SCALAR_SIDES.get(node.op, ()) if literals[i] is not None]
    if len(sides) != 1 or literals[1 - sides[0]] is not None:
        return None  # no literal, or two: that is a constant, computed as tensors
    return sides[0], backend.operand(literals[sides[0]])


def _literal(node: ir.Node):
    """The exact value of a literal operand (``2``, ``-2``, ``+0.5``), else ``None``."""
    if isinstance(node, ir.Num):
        return node.value
    if isinstance(node, ir.Op) and node.op in ("neg", "pos") and len(node.args) == 1:
        inner = _literal(node.args[0])
        return None if inner is None else (-inner if node.op == "neg" else inner)
    return None


def _call(fn: Callable, args: list[Thunk]) -> Thunk:
    """``fn`` of the arguments' values, unrolled for the common arities."""
    if len(args) == 1:
        (a,) = args
        return lambda env: fn(a(env))
    if len(args) == 2:
        a, b = args
        return lambda env: fn(a(env), b(env))
    return lambda env: fn(*[a(env) for a in args])


def _with_shape(fn: Callable, shape: tuple) -> Callable:
    """A function-table meaning whose trailing positional arguments are a static shape."""
    return lambda *args: fn(*args, *shape)


def _guard(pos: ir.Pos, thunk, what=None):
    """Run one backend operation; turn NumPy/torch complaints into a positioned ShapeError."""
    try:
        return thunk()
    except JacliError:
        raise
    except MemoryError:
        raise LimitError("out of memory evaluating this expression", line=pos[0], column=pos[1],
                         where="expression", hint="use smaller tensors") from None
    except (ValueError, IndexError, RuntimeError, TypeError) as e:
        message = str(e).strip().split("\n")[0] or type(e).__name__
        if "allocate" in message:  # torch's "can't allocate memory": a size limit, not a shape
            raise LimitError(f"out of memory: {message}", line=pos[0], column=pos[1],
                             where="expression", hint="use smaller tensors") from None
        message = f"{what()}: {message}" if what else message  # built only on failure
        raise ShapeError(message, line=pos[0], column=pos[1], where="expression", hint=(
            "variables without --at are scalars: give their shapes with a point, e.g. --at "
            "W=[[1,2],[3,4]]" if "0D" in message else "check the shapes: jacli follows "
            "PyTorch's broadcasting rules")) from None
