"""One interpreter, two backends: evaluate a ``Program`` on SymPy arrays or on tensors.

The interpreter walks the IR and delegates every operation to a backend (``symbolic.
SymbolicBackend`` or ``autograd.TorchBackend``); it never knows which one it runs. Errors a
backend raises for user input (broadcasting, bad indices, view of the wrong size) become
``ShapeError`` pointing at the node that caused them.
"""

from __future__ import annotations

from typing import Any, Protocol

from jacli.errors import JacliError, LimitError, ShapeError
from jacli.functions import TABLE
from jacli.language import ir


class Backend(Protocol):
    """What the interpreter needs from a backend; values are its own array type.
    ``kind`` ("symbolic" or "torch") picks each function-table row's meaning."""

    kind: str

    def constant(self, value) -> Any: ...
    def named_constant(self, name: str) -> Any: ...
    def stack(self, items: list) -> Any: ...
    def concat(self, items: list) -> Any: ...
    def op(self, op: str, *args) -> Any: ...
    def index(self, value, index: tuple) -> Any: ...
    def setitem(self, value, index: tuple, item) -> Any: ...
    def stop_gradient(self, value) -> Any: ...
    def shape(self, value) -> tuple[int, ...]: ...


def run(program: ir.Program, backend: Backend, bindings: dict[str, Any],
        node: ir.Node | None = None) -> Any:
    """Run the statements with ``bindings`` for the variables; return the output value (or
    the value of ``node`` evaluated after the statements, e.g. ``backward(v)``'s ``v``)."""
    try:
        return _run(program, backend, bindings, node)
    except ShapeError as e:
        e.source = e.source or program.source  # so the message can show the caret line
        raise


def _run(program: ir.Program, backend: Backend, bindings: dict[str, Any],
         node: ir.Node | None) -> Any:
    env = dict(bindings)
    for stmt in program.statements:
        value = evaluate(stmt.value, backend, env)
        if stmt.no_grad:
            value = backend.stop_gradient(value)
        if isinstance(stmt, ir.SetItem):
            value = _guard(stmt.pos, lambda: backend.setitem(env[stmt.name], stmt.index, value))
        env[stmt.name] = value
    return evaluate(program.output if node is None else node, backend, env)


def evaluate(node: ir.Node, backend: Backend, env: dict[str, Any]) -> Any:
    """Evaluate one expression node in ``env``."""
    if isinstance(node, ir.Num):
        return backend.constant(node.value)
    if isinstance(node, ir.Name):
        if node.id not in env:  # the parser only lets through names it has seen bound
            raise ShapeError(f"{node.id!r} has no value", line=node.pos[0], column=node.pos[1])
        return env[node.id]
    if isinstance(node, ir.Const):
        return backend.named_constant(node.id)
    if isinstance(node, ir.Call):
        return _call(node, backend, env)
    args = [evaluate(a, backend, env) for a in getattr(node, "args", getattr(node, "items", ()))]
    if isinstance(node, ir.Op):
        return _guard(node.pos, lambda: backend.op(node.op, *args),
                      lambda: f"{node.op} of shapes " + " and ".join(
                          str(tuple(backend.shape(a))) for a in args))
    if isinstance(node, ir.ListLit):
        return _guard(node.pos, lambda: backend.stack(args))
    if isinstance(node, ir.Outputs):
        return _guard(node.pos, lambda: backend.concat(args))
    if isinstance(node, ir.Index):
        base = evaluate(node.base, backend, env)
        return _guard(node.pos, lambda: backend.index(base, node.index))
    raise TypeError(f"unknown IR node {node!r}")  # a jacli bug, not user input


def _call(node: ir.Call, backend: Backend, env: dict[str, Any]) -> Any:
    row = TABLE[node.fn]
    meaning = row.sym if backend.kind == "symbolic" else row.torch
    if row.tensors[0] == -1:  # stack([a, b]): one list of tensors, each evaluated on its own
        args = [[evaluate(item, backend, env) for item in node.args[0].items]]
    else:
        args = [evaluate(a, backend, env) for a in node.args]
    params = dict(node.params)
    shape = params.pop("*shape", ())
    return _guard(node.pos, lambda: meaning(backend, *args, *shape, **params))


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
        raise ShapeError(message, line=pos[0], column=pos[1], where="expression",
                         hint="check the shapes: jacli follows PyTorch's broadcasting rules"
                         ) from None
