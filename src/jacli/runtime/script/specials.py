"""Calls the machine does itself rather than hand to the library as they are: gradient
events (``backward``, ``autograd.grad``; transforms of script functions are ``functional``'s),
in-place writes (written to the trace), hooks, seeds.
"""

from __future__ import annotations

from typing import Any

import torch

from jacli.runtime.script import vocabulary as V
from jacli.runtime.script.calls import is_event
from jacli.runtime.script.events import (Event, as_list, reached_leaves, replay_or_why,
                                         snapshot)
from jacli.runtime.script.objects import Builtin
from jacli.runtime.script.trace import scalar_text

_ARITHMETIC = {"add_": "+", "sub_": "-", "mul_": "*", "div_": "/", "pow_": "**"}


class Specials:
    """Mixin of the machine: ``special(f, args, kwargs, node)`` or ``NotImplemented``."""

    def special(self, f: Builtin, args: list, kwargs: dict, node) -> Any:
        name = f.name
        if name in V.SHOW_ONLY:
            return None
        if name in ("super", "type", "id"):
            raise self.fail(node, f"{name}() is supported only as super().__init__()")
        if is_event(f) and self.transforms == 0:
            return self.event_call(f, args, kwargs, node)
        short = name.rsplit(".", 1)[-1]
        if name.startswith("Tensor.") and short in V.IN_PLACE and short not in (
                "requires_grad_", "retain_grad", "register_hook"):
            return self.in_place(f, short, args, kwargs, node)
        if not torch.cuda.is_available() and _asks_cuda(short, args, kwargs):
            # tutorials move to the GPU when there is one; on a machine without one, PyTorch
            # would fail where the tutorial's author had a GPU: the values stay on the CPU
            self.devices.add(node.lineno)
            return torch.device("cpu") if name == "torch.device" else f.owner
        if name in ("torch.manual_seed", "torch.random.manual_seed", "torch.seed"):
            self.seeds.append((node.lineno, args[0] if args else None))
        if name == "Tensor.register_hook":
            self.hooks += 1
        return NotImplemented

    # -- in-place writes ------------------------------------------------------------------
    def in_place(self, f: Builtin, short: str, args, kwargs, node) -> Any:
        t = f.owner
        before = self.trace.before_write(t)
        out = self.real(node, f.fn, *[self.callable_of(a) for a in args], **kwargs)
        self.written(t, before, short, args, kwargs, node)
        return out

    def written(self, t: torch.Tensor, before, how: str, args, kwargs, node, index=None):
        """``t`` was written in place (``how``: an in-place method, or "setitem"): the trace
        writes the new value from the old one, or refuses."""
        try:
            if not isinstance(t, torch.Tensor) or not t.requires_grad or t.is_leaf:
                return
        except RuntimeError:  # a view made under no_grad, written since: PyTorch refuses to
            return  # even say whether it requires grad; its own error comes when it is used
        # a view written in place changes its base too: the base's version moves with it, so
        # a later read of the base (or of a sibling view) is refused by the version check
        value = args[0] if args else None
        if kwargs or len(args) > 1 or (how not in _ARITHMETIC and how != "setitem"):
            return self.untraceable(t, node, f"the in-place .{how}()")
        try:
            operand = "{1}" if isinstance(value, torch.Tensor) else scalar_text(value)
            old = "{0}"
            if how == "setitem":
                idx = ", ".join(scalar_text(i) for i in (index if isinstance(index, tuple)
                                                          else (index,)))
                template = ("{out} = clone(" + old + ")", "{out}[" + idx + "] = " + operand)
            else:
                template = f"({old}) {_ARITHMETIC[how]} ({operand})"
        except Exception as e:  # Untraceable, or an index the replay cannot write
            return self.untraceable(t, node, str(e))
        operands = [before] + ([self.trace.node(value)] if isinstance(value, torch.Tensor)
                               else [])
        self.trace.record_nodes(t, template, operands, node.lineno)

    # -- gradient events ------------------------------------------------------------------
    def event_call(self, f: Builtin, args: list, kwargs: dict, node) -> Any:
        self.check_events(node)
        if f.name == "Tensor.backward":
            return self.backward_event(f.owner, args, kwargs, node)
        if f.name == "torch.autograd.backward":
            return self.backward_event(args[0], args[1:], kwargs, node)
        if f.name == "torch.autograd.grad":
            return self.grad_event(args, kwargs, node)
        if f.name == "torch.func.jvp":  # a call, not a transform: (f(x), J u) now
            return self.functional_event(f, "func.jvp", args, kwargs, node)
        if f.name == "torch.func.vjp":  # (f(x), the pullback): calling the pullback is
            out, pullback = self.real(node, f.fn, *[self.callable_of(a) for a in args],
                                      **kwargs)  # the event, vᵀJ at the v it is given
            return out, Builtin("torch.func.vjp(...)'s pullback", lambda *vs: self.pulled(
                pullback, args[0] if args else None, list(args[1:]), list(vs), node))
        if f.name.startswith("torch.func.") and f.name != "torch.func.vmap":
            return self.transform(f, args, kwargs, node)
        if f.name == "torch.func.vmap":
            return self.vmapped(f, args, kwargs, node)
        # torch.autograd.functional.jacobian: the event "functional.jacobian"
        return self.functional_event(f, f.name.removeprefix("torch.autograd."), args, kwargs,
                                     node)

    def backward_event(self, t, args, kwargs, node) -> None:
        gradient = args[0] if args else kwargs.get("gradient", kwargs.get("grad_tensors"))
        inputs = kwargs.get("inputs")
        leaves = as_list(inputs) if inputs is not None else \
            (reached_leaves(t) if isinstance(t, torch.Tensor) else [])
        named = self.named(leaves)
        watched = self.watched(named)
        label = self.label_of(node, t)
        event = Event("backward", node.lineno, label, _value(t), _value(gradient),
                      "backward(v) in the program" if gradient is not None else
                      "1: scalar output", named, grad_before=snapshot(watched))
        if isinstance(t, torch.Tensor) and t.requires_grad:
            replay_or_why(self.trace, event, t, named, _value(gradient))
        self.real(node, torch.Tensor.backward, t, *args, **kwargs)
        event.grad, event.shapes = snapshot(watched), {n: tuple(x.shape) for n, x in watched}
        self.events.append(event)

    def watched(self, named: list) -> list[tuple[str, torch.Tensor]]:
        """The event's leaves, then every other leaf the script's globals hold."""
        ids = {id(t) for _, t in named}
        return named + [(n, t) for n, t in self.global_leaves() if id(t) not in ids and
                        n not in dict(named)]

    def grad_event(self, args, kwargs, node) -> Any:
        names = ("outputs", "inputs", "grad_outputs", "retain_graph", "create_graph")
        given = dict(zip(names, args)) | kwargs
        outputs, inputs = as_list(given.get("outputs")), as_list(given.get("inputs"))
        v = given.get("grad_outputs")
        v = as_list(v)[0] if v is not None else None
        named = self.named(inputs)
        out = outputs[0] if len(outputs) == 1 else None
        event = Event("autograd.grad", node.lineno, self.label_of(node, out), _value(out),
                      _value(v), "grad_outputs" if v is not None else "1: scalar output",
                      named, grad_before=snapshot(self.global_leaves()))
        if out is not None and out.requires_grad:
            replay_or_why(self.trace, event, out, named, _value(v))
        else:
            event.replay_why = "several outputs at once"
        result = self.real(node, torch.autograd.grad, *args, **kwargs)
        self.trace.refuse(list(result), f"a gradient made by torch.autograd.grad at line "
                          f"{node.lineno} (create_graph=True)")
        event.result = [None if r is None else r.detach().clone() for r in result]
        event.grad = snapshot(self.global_leaves())
        self.events.append(event)
        return result

def _asks_cuda(short: str, args: list, kwargs: dict) -> bool:
    """``x.cuda()``, ``x.to("cuda")``, ``model.to(device)`` with a CUDA device,
    ``torch.device("cuda")``."""
    if short == "cuda":
        return True
    if short not in ("to", "device"):
        return False
    wanted = [a for a in (*args, kwargs.get("device")) if isinstance(a, (str, torch.device))]
    return bool(wanted) and all(str(a).startswith("cuda") for a in wanted)


def _value(t: Any) -> torch.Tensor | None:
    if isinstance(t, torch.Tensor):
        return t.detach().clone()
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return torch.tensor(float(t))
    return None
