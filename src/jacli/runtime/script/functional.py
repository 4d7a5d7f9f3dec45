"""``torch.func`` transforms and ``torch.autograd.functional`` calls of script functions:
each call a gradient event (``grad``, ``jacrev``, ``jacfwd``, ``hessian``, ``vjp``'s
pullback, ``functional.jacobian`` …), run by PyTorch and replayed on fresh leaves for the
arguments it differentiates; ``vmap`` runs its calls as one batch.
"""

from __future__ import annotations

from typing import Any

import torch

from jacli.runtime.script.events import Event, as_list, replay_or_why, snapshot
from jacli.runtime.script.objects import Builtin, Func
from jacli.runtime.script.specials import _value


class Functional:
    """Mixin of the machine: the events of function transforms (``Specials.event_call``)."""

    def transform(self, f: Builtin, args, kwargs, node) -> Builtin:
        """``torch.func.grad(f)`` and friends: a function whose every call is an event."""
        real = self.real(node, f.fn, *[self.callable_of(a) for a in args], **kwargs)
        kind = f.name.removeprefix("torch.")
        target = args[0] if args else None
        argnums = kwargs.get("argnums", args[1] if len(args) > 1 else 0)  # (func, argnums, …)

        def call(*xs, **kw):
            return self.applied_event(kind, real, target, list(xs), kw, node, argnums=argnums)

        return Builtin(f"{f.name}(...)", call)

    def vmapped(self, f: Builtin, args, kwargs, node) -> Builtin:
        """``vmap(g)``: calls run as one batch inside the transform (no events there); a
        ``vmap`` of a gradient transform is itself one event, PyTorch's numbers only."""
        real = self.real(node, f.fn, *[self.callable_of(a) for a in args], **kwargs)
        inner = args[0] if args else None
        is_gradient = isinstance(inner, Builtin) and inner.name.startswith("torch.func.")

        def call(*xs, **kw):
            self.transforms += 1
            try:
                result = self.real(node, real, *xs, **kw)
            finally:
                self.transforms -= 1
            if is_gradient:
                self.check_events(node)
                tensors = [x for x in xs if isinstance(x, torch.Tensor)]
                event = Event(f"func.vmap({inner.name.removeprefix('torch.func.')[:-5]})",
                              node.lineno, "f", None, None, "1: scalar output",
                              self.named(tensors), grad_before=snapshot(self.global_leaves()))
                event.result = [r.detach().clone() for r in _tensors(result)]
                event.replay_why = "vmap runs the function once per sample; it is not replayed"
                event.grad = snapshot(self.global_leaves())
                self.events.append(event)
            return result

        return Builtin(f"{f.name}(...)", call)

    def functional_event(self, f: Builtin, kind: str, args, kwargs, node) -> Any:
        def run(*a, **k):
            return f.fn(*[self.callable_of(x) for x in a], **k)

        return self.applied_event(kind, run, args[0], list(args[1:]), kwargs, node,
                                  direct=True)

    def pulled(self, pullback, target, primals: list, vs: list, node) -> Any:
        """``torch.func.vjp``'s pullback called at v: the event ``func.vjp`` (vᵀJ of
        ``target`` at ``primals``), replayed with that v."""
        if self.transforms or len(vs) != 1 or not isinstance(vs[0], torch.Tensor):
            return self.real(node, pullback, *vs)
        self.check_events(node)
        result = self.real(node, pullback, *vs)
        named, replay = self.fresh_arguments(target, primals, False, range(len(primals)))
        event = Event("func.vjp", node.lineno, "f", None, _value(vs[0]), "v given to the "
                      "pullback", named, grad_before=snapshot(self.global_leaves()))
        event.result = [r.detach().clone() for r in _tensors(result)]
        self.replay_applied(event, target, replay, {}, named)
        event.grad = snapshot(self.global_leaves())
        self.events.append(event)
        return result

    def applied_event(self, kind: str, real, target, xs: list, kw: dict, node,
                      direct: bool = False, argnums=0) -> Any:
        """Run ``real`` (a transform of the script function ``target``) at ``xs``; record the
        event, replayed by running ``target`` once more with fresh leaves for the arguments
        it differentiates (``argnums`` of a transform; a functional call's inputs, ``xs[0]``)
        and the other arguments as they are."""
        if self.transforms:  # inside vmap (or another transform): one batched call, no event
            return real(target, *xs, **kw) if direct else real(*xs, **kw)
        self.check_events(node)
        self.transforms += 1
        try:
            result = self.real(node, real, *xs, **kw) if not direct else \
                self.real(node, real, target, *xs, **kw)
        finally:
            self.transforms -= 1
        named, replay = self.fresh_arguments(target, xs, direct, argnums)
        event = Event(kind, node.lineno, "f", None, None, "1: scalar output", named,
                      grad_before=snapshot(self.global_leaves()))
        event.result = [r.detach().clone() for r in _tensors(result)]
        if direct and kind.endswith("vjp") and len(xs) > 1:
            event.v = _value(xs[1])
        if kind.endswith("jvp") and len(xs) > 1:  # the tangents: the replay's u
            event.u = _flat_tensors(as_list(xs[1]))
        self.replay_applied(event, target, replay, {} if direct else kw, named)
        event.grad = snapshot(self.global_leaves())
        self.events.append(event)
        return result


    def replay_applied(self, event: Event, target, replay: list, kw: dict, named) -> None:
        """Run ``target`` once more on the fresh leaves, recording the replay (or why not)."""
        try:
            out = self.invoke(target, replay, kw) if isinstance(target, Func) else \
                self.callable_of(target)(*replay, **kw)
            out = out[0] if isinstance(out, (tuple, list)) else out
            if isinstance(out, torch.Tensor):
                if event.kind != "func.vjp" and (out.numel() <= 1 or
                                                 event.command not in ("vjp", "grad")):
                    event.v = None  # (a pullback's v is PyTorch's, even for a scalar)
                event.value = _value(out)
                if out.requires_grad:
                    replay_or_why(self.trace, event, out, named, event.v)
        except Exception as e:  # the replay is extra: PyTorch's own call succeeded
            event.replay_why = f"the function could not be run again: {e}"

    def fresh_arguments(self, target, xs: list, direct: bool, argnums) -> tuple[list, list]:
        """(the named fresh leaves, the replay's arguments). A functional call (``AF.jacobian
        (f, inputs)``) differentiates every tensor of ``inputs`` and calls ``f(*inputs)``; a
        transform's call (``jacrev(f, argnums=1)(w, x)``) differentiates the arguments at
        ``argnums`` and passes the others as they are, detached."""
        if direct:
            points = as_list(xs[0]) if xs else []
            leaves = [p.detach().clone().requires_grad_(True) for p in points
                      if isinstance(p, torch.Tensor) and p.dtype.is_floating_point]
            return list(zip(self.parameter_names(target, len(leaves)), leaves)), leaves
        names = self.parameter_names(target, len(xs))
        replay = [x.detach() if isinstance(x, torch.Tensor) else x for x in xs]
        named = []
        for i in _argnums(argnums, len(xs)):
            x = xs[i]
            if isinstance(x, torch.Tensor) and x.dtype.is_floating_point:
                replay[i] = x.detach().clone().requires_grad_(True)
                named.append((names[i], replay[i]))
        return named, replay


def _argnums(argnums, n: int) -> list[int]:
    """The argument positions a ``torch.func`` transform differentiates (PyTorch refused
    any out of range before this is asked)."""
    picked = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    return [i % n for i in picked if isinstance(i, int) and -n <= i < n]


def _flat_tensors(items: list) -> torch.Tensor | None:
    tensors = [t.detach().reshape(-1) for t in items if isinstance(t, torch.Tensor)]
    return torch.cat(tensors) if tensors and len(tensors) == len(items) else None


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []
