"""Definitions and imports of a script: ``def`` (with ``@staticmethod``), ``class`` (an
``nn.Module`` or ``torch.autograd.Function`` subclass, or a plain class), and imports through
the whitelist (display-only modules such as matplotlib are imported as do-nothing)."""

from __future__ import annotations

import ast

import torch

from jacli.runtime.script import vocabulary as V
from jacli.runtime.script.objects import Builtin, Func, ModuleRef, ScriptClass


class Definitions:
    """Mixin of the machine: ``def``, ``class`` and ``import`` statements."""

    # -- definitions ----------------------------------------------------------------------
    def s_FunctionDef(self, stmt: ast.FunctionDef) -> None:
        self.scope.names[stmt.name] = self.function(stmt)

    def function(self, stmt: ast.FunctionDef, cls: ScriptClass | None = None) -> Func:
        static = False
        for d in stmt.decorator_list:
            if isinstance(d, ast.Name) and d.id == "staticmethod":
                static = True
            else:
                raise self.fail(d, "decorators other than @staticmethod are not supported")
        return Func(stmt.name, stmt.args, stmt.body, self.scope,
                    [self.evaluate(d) for d in stmt.args.defaults],
                    [None if d is None else self.evaluate(d) for d in stmt.args.kw_defaults],
                    stmt.lineno, cls, static)

    def s_ClassDef(self, stmt: ast.ClassDef) -> None:
        bases = [self.evaluate(b) for b in stmt.bases]
        base = "object"
        for b in bases:
            fn = b.fn if isinstance(b, Builtin) else None
            if fn is torch.nn.Module:
                base = "torch.nn.Module"
            elif fn is torch.autograd.Function:
                base = "torch.autograd.Function"
            elif not (isinstance(b, ScriptClass)):
                raise self.fail(stmt, "a class may derive from nn.Module or "
                                "torch.autograd.Function only")
        cls = ScriptClass(stmt.name, base)
        for item in stmt.body:
            if isinstance(item, ast.FunctionDef):
                cls.methods[item.name] = self.function(item, cls)
            elif isinstance(item, ast.Assign) and all(isinstance(t, ast.Name)
                                                      for t in item.targets):
                for t in item.targets:
                    cls.attributes[t.id] = self.evaluate(item.value)
            elif not isinstance(item, (ast.Pass, ast.Expr)):
                raise self.fail(item, "a class body may hold methods and constants only")
        if base == "torch.autograd.Function":
            cls.real = self.autograd_function(cls, stmt)
        self.scope.names[stmt.name] = cls

    def autograd_function(self, cls: ScriptClass, stmt) -> type:
        if "forward" not in cls.methods or "backward" not in cls.methods:
            raise self.fail(stmt, f"{cls.name} needs forward and backward static methods")
        fwd, bwd = cls.methods["forward"], cls.methods["backward"]
        return type(cls.name, (torch.autograd.Function,), {
            "forward": staticmethod(lambda ctx, *a: self.invoke(fwd, [ctx, *a], {})),
            "backward": staticmethod(lambda ctx, *g: self.invoke(bwd, [ctx, *g], {}))})

    # -- imports --------------------------------------------------------------------------
    def s_Import(self, stmt: ast.Import) -> None:
        for alias in stmt.names:
            ref = self.importable(alias.name, stmt)
            if alias.asname:
                self.scope.names[alias.asname] = ref
            else:
                top = alias.name.split(".")[0]
                self.scope.names[top] = self.importable(top, stmt)

    def s_ImportFrom(self, stmt: ast.ImportFrom) -> None:
        parent = self.importable(stmt.module or "", stmt)
        for alias in stmt.names:
            if alias.name == "*":
                raise self.fail(stmt, "`from ... import *` is not supported",
                                "import the names you use")
            path = f"{parent.path}.{alias.name}"
            value = ModuleRef(path, True) if parent.display else (
                ModuleRef(V.IMPORTABLE[path]) if path in V.IMPORTABLE else
                self.module_member(parent, alias.name, stmt))
            self.scope.names[alias.asname or alias.name] = value

    def importable(self, name: str, stmt) -> ModuleRef:
        if name in V.IMPORTABLE:
            return ModuleRef(V.IMPORTABLE[name])
        if name in V.DISPLAY_MODULES or name.split(".")[0] in V.DISPLAY_MODULES:
            return ModuleRef(name, display=True)
        raise self.fail(stmt, f"import of {name} is refused", "scripts may import torch "
                        "(and its nn, optim, autograd, func), numpy and math")
