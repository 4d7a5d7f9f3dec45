"""The script machine's own values: modules, whitelisted callables, user functions and
classes, and the signals that carry ``return``/``break``/``continue`` out of a block.

Everything else a script holds is a plain Python value (numbers, strings, lists, tuples,
dicts) or a real library object the whitelist let it make (tensors, ``nn`` modules,
optimisers).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class ModuleRef:
    """A module the script imported (``torch``, ``torch.nn.functional``), by canonical path.
    ``display``: a module whose calls only show things (matplotlib): skipped."""

    path: str
    display: bool = False


@dataclass(frozen=True)
class Builtin:
    """A whitelisted callable, with the dotted name messages and the trace use."""

    name: str
    fn: Callable
    owner: Any = None  # the tensor (or module) a method is bound to, for the trace


@dataclass
class Func:
    """A ``def`` or ``lambda``: its parameters, its body and the scope it closes over."""

    name: str
    args: ast.arguments
    body: list[ast.stmt] | ast.expr
    scope: "Scope"
    defaults: list[Any]
    kw_defaults: list[Any]
    line: int
    method_of: "ScriptClass | None" = None
    static: bool = False


@dataclass
class ScriptClass:
    """A ``class`` statement: an ``nn.Module`` or ``torch.autograd.Function`` subclass, or a
    plain class; ``real`` is the generated ``autograd.Function`` subclass when it is one."""

    name: str
    base: str  # "torch.nn.Module" | "torch.autograd.Function" | "object"
    methods: dict[str, Func] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    real: Any = None


class Instance:
    """An instance of a plain script class (attributes in ``fields``)."""

    def __init__(self, cls: ScriptClass) -> None:
        self.cls = cls
        self.fields: dict[str, Any] = {}


class Scope:
    """Names → values, with the enclosing scope for reads (closures, globals)."""

    def __init__(self, parent: "Scope | None" = None) -> None:
        self.names: dict[str, Any] = {}
        self.parent = parent

    def find(self, name: str) -> "Scope | None":
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope
            scope = scope.parent
        return None


class Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class Break(Exception):
    pass


class Continue(Exception):
    pass

