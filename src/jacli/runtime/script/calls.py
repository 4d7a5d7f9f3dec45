"""Calls and attributes of a script (the second half of expressions): every name reached
through a whitelist, every tensor-making call written to the trace.

``torch.sin(x)``, ``x.sum(dim=1)``, ``F.mse_loss(a, b)``, ``nn.Linear(2, 1)(x)``, ``model.fc``,
``x.grad``: the real library object is looked up only after its name passed
``vocabulary``; gradient events (``backward``, ``autograd.grad``, the functional APIs) go to
``events``.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from functools import reduce
from typing import Any

import torch

from jacli.language.signatures import lookup
from jacli.errors import NameLookupError, ParseError, ScriptError
from jacli.backends import sizes
from jacli.runtime.script import layers
from jacli.runtime.script import vocabulary as V
from jacli.runtime.script.recording import Context, Recorder
from jacli.runtime.script.objects import Builtin, Func, Instance, ModuleRef, ScriptClass

_TYPED = {"sum", "max", "min", "round", "pow", "abs"}  # builtins with a tensor meaning too
_EVENTS = {"torch.autograd.grad", "torch.autograd.backward"} | {
    f"torch.autograd.functional.{n}" for n in V.MODULES["torch.autograd.functional"]} | {
    f"torch.func.{n}" for n in V.MODULES["torch.func"]}
_MODULE_METHODS = {"parameters", "named_parameters", "zero_grad", "train", "eval", "forward",
                   "children", "modules", "state_dict", "requires_grad_", "double", "float",
                   "to", "apply", "add_module", "register_parameter", "cpu"}
_OPTIMIZER_METHODS = {"step", "zero_grad", "param_groups", "state"}


class Caller(Recorder):
    """Mixin of the machine: ``e_Call``, ``e_Attribute``, ``call``, ``attribute``."""

    def e_Call(self, node: ast.Call) -> Any:
        f = self.evaluate(node.func)
        if _shows_only(f):  # print(...), plt.plot(...): nothing shown, their arguments checked
            for n in ast.walk(node):
                if isinstance(n, (ast.Name, ast.Attribute)) and "__" in getattr(
                        n, "id", getattr(n, "attr", "")):
                    raise self.fail(n, "names with '__' are refused")
            self.shown_calls(node)
            return None
        args = self.items(node.args)
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                kwargs.update(self.evaluate(kw.value))
            else:
                kwargs[kw.arg] = self.evaluate(kw.value)
        return self.call(f, args, kwargs, node)

    def e_Attribute(self, node: ast.Attribute) -> Any:
        obj = self.evaluate(node.value)
        if obj is None:
            what = ast.unparse(node.value)[:40]
            raise self.fail(node, f"{what} is None here, so it has no .{node.attr}",
                            ".grad is None until a backward() reaches the tensor"
                            if what.endswith(".grad") else None, kind=ScriptError)
        return self.attribute(obj, node.attr, node)

    # -- names ----------------------------------------------------------------------------
    def builtin(self, name: str) -> Any:
        """A Python builtin, or a bare function of the expression language (``sin(x)``,
        ``ones(2)``, ``relu(x)``) as the torch function of that name."""
        if name in ("print", "display"):  # handed on as a value too (register_hook(print)):
            return Builtin(name, _shown_nowhere)  # stdout carries only jacli's output
        if name in V.BUILTINS:
            return Builtin(name, getattr(builtins, name, None))
        row = lookup(name)
        if row is not None:
            for module in ("torch", "torch.nn.functional"):
                if row.name in V.MODULES[module]:
                    path = f"{module}.{row.name}"
                    return Builtin(path, reduce(getattr, path.split(".")[1:], torch))
        return None

    def typed_builtin(self, f: Builtin, args: list, kwargs: dict) -> Builtin:
        """``sum(x, dim=0)``, ``max(a, b)`` of tensors in a jacli-style program (variables from
        --at) or with keywords mean jacli's functions, as in a typed program; ``sum(parts)``
        of a list in pasted PyTorch stays Python's."""
        if f.name not in _TYPED or not any(isinstance(a, torch.Tensor) for a in args) or \
                not (self.free or kwargs):
            return f
        tensors = sum(isinstance(a, torch.Tensor) for a in args)
        name = {"max": "maximum" if tensors == 2 else "amax",
                "min": "minimum" if tensors == 2 else "amin"}.get(f.name, f.name)
        return Builtin(f"torch.{name}", getattr(torch, name))

    def module_member(self, ref: ModuleRef, name: str, node) -> Any:
        if ref.display:
            return ModuleRef(f"{ref.path}.{name}", display=True)
        path = f"{ref.path}.{name}"
        if path in V.MODULES:
            return ModuleRef(path)
        if path in V.CONSTANTS:
            where, what = V.CONSTANTS[path]
            return getattr(importlib.import_module(where) if where == "math" else torch, what)
        if name in V.MODULES.get(ref.path, ()):
            return Builtin(path, reduce(getattr, path.split(".")[1:],
                                        importlib.import_module(path.split(".")[0])))
        if ref.path in ("torch", "torch.nn.functional"):  # torch.softplus: the language's
            known = self.builtin(name)  # function of that name, as a typed program reads it
            if known is not None and known.name.startswith("torch."):
                return known
        raise self.fail(node, f"{path} is not supported", "jacli knows the PyTorch a tutorial "
                        "uses; `jacli functions` lists it", kind=NameLookupError)

    # -- attributes -----------------------------------------------------------------------
    def attribute(self, obj: Any, name: str, node) -> Any:
        if name.startswith("_"):
            raise self.fail(node, f"attribute {name!r} is refused", "names starting with _ "
                            "are private")
        if isinstance(obj, ModuleRef):
            return self.module_member(obj, name, node)
        if isinstance(obj, torch.Tensor):
            return self.tensor_attribute(obj, name, node)
        if isinstance(obj, torch.nn.Module):
            return self.module_attribute(obj, name, node)
        if isinstance(obj, torch.optim.Optimizer) and name in _OPTIMIZER_METHODS:
            return self.bound(obj, name)
        if isinstance(obj, Instance) and name in obj.fields:
            return obj.fields[name]
        if isinstance(obj, (Instance, ScriptClass)):
            return self.class_attribute(obj, name, node)
        if isinstance(obj, (torch.autograd.function.FunctionCtx, Context)):
            return self.ctx_attribute(obj, name, node)
        if isinstance(obj, dict) and name in ("items", "keys", "values", "get"):
            return self.bound(obj, name)
        if isinstance(obj, list) and name in ("append", "extend", "pop", "insert", "index",
                                              "count", "copy", "reverse"):
            return self.bound(obj, name)
        if isinstance(obj, str) and name in ("join", "upper", "lower", "strip"):
            return self.bound(obj, name)
        if type(obj).__module__ == "numpy" and name in ("shape", "T", "dtype", "reshape",
                                                        "astype", "sum", "mean", "item",
                                                        "tolist", "seed", "rand", "randn"):
            return getattr(obj, name)
        if isinstance(obj, (torch.dtype, torch.device, torch.Size)) and name in (
                "type", "index", "is_floating_point", "numel"):
            return getattr(obj, name)
        raise self.fail(node, f"attribute .{name} of a {type(obj).__name__} is not supported")

    def tensor_attribute(self, t: torch.Tensor, name: str, node) -> Any:
        if name in V.TENSOR_ATTRIBUTES:
            if name in ("real", "imag"):
                raise self.fail(node, "complex tensors are not supported")
            out = self.real(node, getattr, t, name)
            if name in ("T", "mT"):
                self.record(out, node, "{}." + ("T" if t.dim() <= 2 else "mT"), [t])
            return out
        if name in V.TENSOR_METHODS:
            return Builtin(f"Tensor.{name}", getattr(t, name), owner=t)
        raise self.fail(node, f"tensor attribute .{name} is not supported",
                        "`jacli functions` lists what jacli reads")

    def module_attribute(self, m: torch.nn.Module, name: str, node) -> Any:
        cls = getattr(m, "_jacli_class", None)
        if name in m._parameters or name in m._modules or name in m._buffers:
            return getattr(m, name)
        if cls is not None and name in m.__dict__.get("_jacli_fields", {}):
            return m.__dict__["_jacli_fields"][name]
        if cls is not None and name in cls.methods:
            return self.method(cls.methods[name], m)
        if name in _MODULE_METHODS or name in ("weight", "bias", "in_features",
                                               "out_features"):
            return self.bound(m, name) if callable(getattr(m, name, None)) else getattr(m, name)
        raise self.fail(node, f"attribute .{name} of {type(m).__name__} is not supported")

    def class_attribute(self, obj, name: str, node) -> Any:
        cls = obj.cls if isinstance(obj, Instance) else obj
        if name in cls.methods:
            f = cls.methods[name]
            return f if isinstance(obj, ScriptClass) or f.static else self.method(f, obj)
        if name in cls.attributes:
            return cls.attributes[name]
        if name == "apply" and cls.real is not None:
            return Builtin(f"{cls.name}.apply", cls.real.apply, owner=cls)
        raise self.fail(node, f"{cls.name} has no attribute {name!r}", kind=NameLookupError)

    def ctx_attribute(self, ctx, name: str, node) -> Any:
        if name in ("save_for_backward", "saved_tensors", "needs_input_grad",
                    "mark_non_differentiable", "set_materialize_grads") or \
                name in ctx.__dict__.get("_jacli_fields", ()):
            return self.bound(ctx, name)
        raise self.fail(node, f"ctx.{name} is not set", kind=NameLookupError)

    def bound(self, obj, name: str) -> Any:
        value = getattr(obj, name)
        return Builtin(f"{type(obj).__name__}.{name}", value, owner=obj) if callable(value) \
            else value

    def method(self, f: Func, obj) -> Builtin:
        return Builtin(f.name, lambda *a, **k: self.invoke(f, [obj, *a], k), owner=obj)

    # -- calls ----------------------------------------------------------------------------
    def call(self, f: Any, args: list, kwargs: dict, node) -> Any:
        self.step(node)
        if isinstance(f, Func):
            return self.invoke(f, args, kwargs)
        if isinstance(f, ScriptClass):
            return self.instantiate(f, args, kwargs, node)
        if isinstance(f, ModuleRef):
            if f.display:
                return None
            raise self.fail(node, f"{f.path} is a module, not a function")
        if isinstance(f, torch.nn.Module):
            return self.call_module(f, args, kwargs, node)
        if not isinstance(f, Builtin):
            raise self.fail(node, f"a {type(f).__name__} is not callable here")
        f = self.typed_builtin(f, args, kwargs)
        special = self.special(f, args, kwargs, node)
        if special is not NotImplemented:
            return special
        real_args = [self.callable_of(a) for a in args]
        real_kwargs = {k: self.callable_of(v) for k, v in kwargs.items()}
        limit = self.limits.tensor_elements
        sizes.check_call(f.name, f.owner, args, kwargs, limit, node.lineno)
        sizes.check_python(f.name, args, node.lineno)
        out = self.real(node, f.fn, *real_args, **real_kwargs)
        sizes.check_result(out, limit, node.lineno)
        if isinstance(f.owner, ScriptClass) and f.owner.real is not None:
            self.shadow_forward(f.owner, args, out, node)
        else:
            self.record_call(out, f, args, kwargs, node)
        return out

    def callable_of(self, value: Any) -> Any:
        """A script function handed to PyTorch (a hook, ``torch.func.grad(f)``) as a
        Python callable that runs it on this machine."""
        if isinstance(value, Func):
            return lambda *a, **k: self.invoke(value, list(a), k)
        if isinstance(value, Builtin):
            return value.fn
        if isinstance(value, (list, tuple)) and any(isinstance(v, Func) for v in value):
            return type(value)(self.callable_of(v) for v in value)
        return value

    def call_module(self, m: torch.nn.Module, args: list, kwargs: dict, node) -> Any:
        cls = getattr(m, "_jacli_class", None)
        if cls is not None:
            return self.invoke(cls.methods["forward"], [m, *args], kwargs)
        if isinstance(m, torch.nn.Sequential) and len(args) == 1 and not kwargs:
            x = args[0]
            for child in m:  # each layer on its own, so each is written to the trace
                x = self.call_module(child, [x], {}, node)
            return x
        out = self.real(node, m, *args, **kwargs)
        kind = type(m).__name__
        how = layers.loss(kind, args, {"reduction": m.reduction}) if kind.endswith("Loss") \
            and getattr(m, "weight", None) is None and \
            getattr(m, "pos_weight", None) is None and \
            getattr(m, "ignore_index", -100) == -100 and \
            getattr(m, "label_smoothing", 0.0) == 0.0 else \
            (layers.layer(m, args[0]) if len(args) == 1 and not kwargs else None)
        self.record_how(out, how, node, f"nn.{kind}")
        return out

def _shown_nowhere(*args, **kwargs) -> None:
    """``print`` and ``display`` in a script: what they would show, jacli's tables show."""
    return None


def _shows_only(f: Any) -> bool:
    return (isinstance(f, ModuleRef) and f.display) or \
        (isinstance(f, Builtin) and f.name in V.SHOW_ONLY)


def is_event(f: Builtin) -> bool:
    return f.name in _EVENTS or f.name == "Tensor.backward"


def not_supported(node, what: str) -> ParseError:
    return ParseError(f"{what} is not supported", line=node.lineno, column=node.col_offset + 1)
