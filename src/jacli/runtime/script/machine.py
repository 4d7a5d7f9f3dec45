"""Statements of a script and the machine that runs them: ``run_script(text) -> ScriptRun``.

Control flow is decided at the point, by the real values, as Python and PyTorch decide it;
every statement, loop iteration and call is one step of the budget, and the path taken is
reported (``while`` at line 12: 9 iterations).
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from jacli.bounds import Limits
from jacli.errors import LimitError, ParseError, ScriptError, UsageError, ValueInputError
from jacli.runtime.script.messages import first_line, hint_for
from jacli.language.labels import fresh_label
from jacli.language.program import natural_key
from jacli.language.text import check_size, clean, syntax_error
from jacli.runtime.script.calls import Caller
from jacli.runtime.script.events import (Event, reached_leaves, real_jacobian, replay_or_why,
                                         snapshot)
from jacli.runtime.script.expressions import Evaluator
from jacli.runtime.script.objects import Func, Instance, ModuleRef, Return, Scope, ScriptClass
from jacli.runtime.script.naming import Naming
from jacli.runtime.script.functional import Functional
from jacli.runtime.script.printing import Printing
from jacli.runtime.script.specials import Specials
from jacli.runtime.script.statements import Statements
from jacli.runtime.script.trace import Trace

STEPS = 200_000  # statements, iterations and calls one script may take
EVENTS = 10_000
DEPTH = 60  # nested calls of script functions


@dataclass
class ScriptRun:
    """What running a script left: its events in order, the seeds and the path it took."""

    events: list[Event]
    seed: int
    seeds: list[tuple[int, Any]]
    paths: list[str]
    leaves: dict[str, torch.Tensor] = field(default_factory=dict)
    trace: Trace | None = None


def run_script(text: str, limits: Limits, seed: int = 0,
               overrides: dict[str, Any] | None = None) -> ScriptRun:
    """Run ``text`` as PyTorch would (float32 by default, ``torch.manual_seed(seed)`` first);
    raises ``JacliError`` naming the line for anything refused or failing. ``overrides``
    (``--at x=[...]``, floats by name) replace the values of the leaves the script names so
    when they are first bound."""
    rewritten, cmap = clean(text, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            module = ast.parse(rewritten, mode="exec")
    except SyntaxError as e:
        raise syntax_error(e, text, cmap) from None
    check_size(module, limits)
    machine = Machine(limits, overrides or {})
    dtype, state = torch.get_default_dtype(), torch.random.get_rng_state()
    grad_mode = torch.is_grad_enabled()
    torch.manual_seed(seed)
    try:
        torch.set_default_dtype(torch.float32)
        machine.free_variables(module)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            machine.block(module.body)
            if not machine.events:
                machine.implicit_event()
    except RecursionError:
        raise LimitError("the script recursed too deeply", hint="jacli allows "
                         f"{DEPTH} nested calls") from None
    finally:
        torch.set_default_dtype(dtype)
        torch.random.set_rng_state(state)
        torch.set_grad_enabled(grad_mode)
    unused = sorted(set(machine.overrides) - machine.overridden)
    if unused:
        raise UsageError(f"--at {unused[0]}: the script binds no tensor named {unused[0]!r}",
                         hint="name a leaf the script makes, e.g. --at x=[1,2]", where="--at")
    devices = [f"line {', '.join(map(str, sorted(machine.devices)))}: no CUDA device here, so "
               "the values stay on the CPU (the numbers are the same up to rounding)"
               ] if machine.devices else []
    return ScriptRun(machine.events, seed, machine.seeds,
                     machine.path_notes() + machine.custom + devices,
                     machine.global_leaves_dict(), machine.trace)


class Machine(Naming, Statements, Specials, Functional, Printing, Caller, Evaluator):
    def __init__(self, limits: Limits, overrides: dict[str, Any]) -> None:
        self.limits = limits
        self.overrides, self.overridden = overrides, set()
        self.free: list[str] = []  # variables given by --at that the script never binds
        self.globals = self.scope = Scope()
        # the prefixes the expression language reads without an import
        self.globals.names.update({"torch": ModuleRef("torch"), "F": ModuleRef(
            "torch.nn.functional"), "nn": ModuleRef("torch.nn"), "np": ModuleRef("numpy"),
            "math": ModuleRef("math")})
        self.trace = Trace()
        self.events: list[Event] = []
        self.seeds: list = []
        self.steps = 0
        self.depth = 0
        self.hooks = 0
        self.transforms = 0
        self.loops: dict[int, list] = {}  # line -> [kind, iterations, times entered]
        self.last_output: tuple[int, str, Any] | None = None  # (line, label, value)
        self.custom: list[str] = []  # notes on custom autograd.Functions
        self.devices: set[int] = set()  # lines that asked for CUDA on a machine without it

    def step(self, node) -> None:
        self.steps += 1
        if self.steps > STEPS:
            raise LimitError(f"the script took more than {STEPS} steps", line=getattr(
                node, "lineno", None), hint="shorten its loops")

    def free_variables(self, module: ast.Module) -> None:
        """Names given by ``--at`` that the script never binds are variables, as in the
        expression language (``for i in range(3): y = y * x`` with ``--at x=2``): leaves of
        jacli's dtype (float64), made before the script runs."""
        bound = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and
                 isinstance(n.ctx, ast.Store)} | {a.asname or a.name.split(".")[0]
                                                  for n in ast.walk(module)
                                                  if isinstance(n, (ast.Import, ast.ImportFrom))
                                                  for a in n.names}
        read = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and
                isinstance(n.ctx, ast.Load)}
        for name, value in sorted(self.overrides.items(), key=lambda kv: natural_key(kv[0])):
            if name not in bound and name in read:
                self.globals.names[name] = torch.tensor(value, dtype=torch.float64,
                                                        requires_grad=True)
                self.overridden.add(name)
                self.free.append(name)
        if self.free:  # a jacli-style program (variables from --at): its constructors make
            torch.set_default_dtype(torch.float64)  # jacli's float64, as typed programs do

    def implicit_event(self) -> None:
        """A script without ``backward``: its output is the last expression statement, else
        the last name assigned at the top (as in the expression language), one event."""
        line, label, out = self.last_output or (None, None, None)
        # a jacli-style program (variables from --at) may end in a constant: J is then 0
        if not isinstance(out, torch.Tensor) or (not out.requires_grad and not self.free):
            raise self.nothing_to_differentiate()
        reached = reached_leaves(out)
        free = [self.globals.names[n] for n in self.free]  # every variable, used or not,
        named = self.named(free + [t for t in reached if all(t is not f for f in free)])
        if isinstance(label, str) and not label.isidentifier():  # as typed programs label it
            label = fresh_label(set(self.globals.names))
        event = Event("output", line, label, out.detach().clone(), None, "--v", named,
                      grad_before=snapshot(named))
        replay_or_why(self.trace, event, out, named, None)
        try:  # PyTorch's own J: the numbers where the replay has none, and its refusals
            J = real_jacobian(out, [t for _, t in named], self.limits.jacobian_entries)
        except RuntimeError as e:
            raise ScriptError(f"PyTorch: {first_line(e)}", line=line, column=1,
                              hint=hint_for(e)) from None
        event.result = None if J is None else [J]
        event.grad = snapshot(named)
        self.events.append(event)

    def nothing_to_differentiate(self) -> UsageError:
        tensors = [(n, t) for n, t in self.globals.names.items()
                   if isinstance(t, torch.Tensor) and t.dtype.is_floating_point]
        if not any(t.requires_grad for _, t in tensors):
            name, t = tensors[0] if tensors else ("x", torch.tensor([1.0, 2.0]))
            values = t.tolist() if t.numel() <= 8 else "[...]"
            return UsageError("no tensor has requires_grad=True, so there is nothing to "
                              "differentiate", hint=f"declare the input as a variable: {name} "
                              f"= torch.tensor({values}, requires_grad=True)")
        return UsageError("the script has no gradient event and no output that depends on a "
                          "tensor with requires_grad=True", hint="end it with y.backward() "
                          "(or y.backward(v) for a non-scalar y)")

    def override(self, name: str, value: Any, node) -> None:
        """``--at name=...`` replaces the values of the leaf first bound to ``name``."""
        if name in self.overridden or self.scope is not self.globals or \
                not isinstance(value, torch.Tensor):
            return
        self.overridden.add(name)
        if not value.is_leaf or not value.dtype.is_floating_point:
            raise ValueInputError(f"--at {name}: {name} is computed by the script, not a leaf "
                                  "with values of its own", where="--at", line=node.lineno)
        given = torch.tensor(self.overrides[name], dtype=value.dtype)
        if given.shape != value.shape:
            raise ValueInputError(f"--at {name}: shape {tuple(given.shape)}, but the script "
                                  f"makes {name} with shape {tuple(value.shape)}", where="--at")
        with torch.no_grad():
            value.copy_(given)

    def check_events(self, node) -> None:
        if len(self.events) >= EVENTS:
            raise LimitError(f"more than {EVENTS} gradient events", line=node.lineno)

    # -- functions ------------------------------------------------------------------------
    def invoke(self, f: Func, args: list, kwargs: dict) -> Any:
        if self.depth >= DEPTH:
            raise LimitError(f"more than {DEPTH} nested calls", line=f.line,
                             hint="jacli bounds recursion")
        scope = Scope(f.scope)
        self.bind_arguments(f, args, kwargs, scope)
        outer, self.scope = self.scope, scope
        self.depth += 1
        try:
            if isinstance(f.body, ast.expr):
                return self.evaluate(f.body)
            self.block(f.body)
            return None
        except Return as r:
            return r.value
        finally:
            self.depth -= 1
            self.scope = outer

    def bind_arguments(self, f: Func, args: list, kwargs: dict, scope: Scope) -> None:
        a = f.args
        positional = [p.arg for p in a.posonlyargs + a.args]
        if len(args) > len(positional) and a.vararg is None:
            raise ParseError(f"{f.name}() takes {len(positional)} arguments but got "
                             f"{len(args)}", line=f.line)
        values = dict(zip(positional, args))
        if a.vararg is not None:
            values[a.vararg.arg] = tuple(args[len(positional):])
        extra = {}
        for k, v in kwargs.items():
            if k in positional or k in [p.arg for p in a.kwonlyargs]:
                values[k] = v
            elif a.kwarg is not None:
                extra[k] = v
            else:
                raise ParseError(f"{f.name}() got an unexpected keyword {k!r}", line=f.line)
        for name, default in zip(positional[len(positional) - len(f.defaults):], f.defaults):
            values.setdefault(name, default)
        for p, default in zip(a.kwonlyargs, f.kw_defaults):
            if default is not None:
                values.setdefault(p.arg, default)
        if a.kwarg is not None:
            values[a.kwarg.arg] = extra
        missing = [p for p in positional + [p.arg for p in a.kwonlyargs] if p not in values]
        if missing:
            raise ParseError(f"{f.name}() is missing the argument {missing[0]!r}", line=f.line)
        scope.names.update(values)

    def instantiate(self, cls: ScriptClass, args, kwargs, node) -> Any:
        if cls.base == "torch.autograd.Function":
            raise self.fail(node, f"{cls.name} is used through {cls.name}.apply(...)")
        if cls.base == "torch.nn.Module":
            obj = torch.nn.Module()
            obj.__dict__["_jacli_class"] = cls
            obj.__dict__["_jacli_fields"] = {}
        else:
            obj = Instance(cls)
        init = cls.methods.get("__init__")
        if init is not None:
            self.invoke(init, [obj, *args], kwargs)
        return obj
