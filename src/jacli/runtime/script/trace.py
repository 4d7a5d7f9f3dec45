"""The trace: each differentiable operation of the real run, written in jacli's language, so
one gradient event can be replayed as a straight-line program (loops unrolled, the branch
PyTorch took, calls inlined).

A traced tensor has an ``Entry``: a template in jacli's expression language (``sin({0})``,
``{0} @ {1}.T + {2}``) and its operands, each a ``Node`` resolved *when the operation ran*:
another ``Entry``, a ``Leaf`` (a tensor with ``requires_grad`` that autograd accumulates into)
or a ``Const`` (anything that does not require grad: PyTorch's own verdict decides what is a
constant). Leaves and constants keep the tensor's version counter, so a value changed in place
after it was used (an optimiser step, ``x.data``) makes the replay refuse rather than replay
other numbers. Replaying never touches the real tensors' graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import torch

from jacli.language.signatures import known_names


class Untraceable(Exception):
    """The event cannot be replayed; the message says which operation (and line)."""


@dataclass(eq=False)
class Leaf:
    tensor: torch.Tensor
    version: int


@dataclass(eq=False)
class Const:
    tensor: torch.Tensor
    version: int


@dataclass(eq=False)
class Entry:
    """``tensor`` as ``template`` formatted with its operands' names. ``statements``: the
    template is a list of statements writing ``{out}`` (a subscript assignment)."""

    tensor: torch.Tensor
    template: str | tuple[str, ...]
    operands: tuple["Node", ...]
    line: int
    label: str | None = None
    version: int = 0


@dataclass(eq=False)
class Opaque:
    """A tensor that requires grad but was made by something the replay cannot write."""

    reason: str


Node = Union[Entry, Leaf, Const, Opaque]
_RESERVED = set(known_names()) | {"torch", "F", "np", "math", "pi", "nn"}


@dataclass
class Trace:
    entries: dict[int, Entry] = field(default_factory=dict)
    opaque: dict[int, tuple[torch.Tensor, str]] = field(default_factory=dict)

    # -- recording ------------------------------------------------------------------------
    def node(self, value: Any) -> Node | None:
        """The operand ``value`` as a node, now (its version recorded); ``None`` for a
        Python value (the template writes it inline)."""
        if not isinstance(value, torch.Tensor):
            return None
        if not value.requires_grad:
            return Const(value, value._version)
        if value.is_leaf:
            return Leaf(value, value._version)
        entry = self.entries.get(id(value))
        if entry is not None and entry.tensor is value and entry.version == value._version:
            return entry
        why = self.opaque.get(id(value))
        return Opaque(why[1] if why and why[0] is value else
                      "a tensor made by an operation jacli cannot replay")

    def before_write(self, t: Any) -> Node | None:
        """``t``'s node just before an in-place write into it: a constant is kept as a copy
        of its old value (the write moves its version, and the replay needs the old one)."""
        node = self.node(t)
        if isinstance(node, Const):
            copy = t.detach().clone()
            return Const(copy, copy._version)
        return node

    def record(self, out: Any, template, operands: list, line: int) -> None:
        """``out`` was computed as ``template`` of ``operands`` (tensors or Python values)."""
        if not isinstance(out, torch.Tensor) or not out.requires_grad or out.is_leaf:
            return
        nodes = tuple(self.node(o) for o in operands if isinstance(o, torch.Tensor))
        self.entries[id(out)] = Entry(out, template, nodes, line, version=out._version)

    def record_nodes(self, out: torch.Tensor, template, nodes: list, line: int) -> None:
        """``out`` (written in place) is now ``template`` of ``nodes``, resolved earlier."""
        self.entries[id(out)] = Entry(out, template, tuple(nodes), line, version=out._version)

    def refuse(self, out: Any, reason: str) -> None:
        """``out`` (and what is computed from it) cannot be replayed: ``reason`` says why."""
        for t in out if isinstance(out, (list, tuple)) else (out,):
            if isinstance(t, torch.Tensor) and t.requires_grad and not t.is_leaf:
                self.entries.pop(id(t), None)
                self.opaque[id(t)] = (t, reason)

    def label(self, value: Any, name: str) -> None:
        """The script bound ``value`` to ``name``: the replay uses that name for it."""
        entry = self.entries.get(id(value)) if isinstance(value, torch.Tensor) else None
        if entry is not None and entry.tensor is value and entry.label is None:
            entry.label = name

    # -- replaying ------------------------------------------------------------------------
    def replay(self, output: torch.Tensor, variables: list[tuple[str, torch.Tensor]],
               v: torch.Tensor | None, output_name: str, max_lines: int = 4000,
               backward: bool = True) -> str:
        """A jacli program computing ``output`` from ``variables`` (name, tensor) at their
        current values, ending in ``output_name.backward(v)`` (``backward()`` when ``v`` is
        None). Raises ``Untraceable``."""
        writer = _Writer(self, variables, max_lines)
        out = writer.ref(self.node(output) if output.requires_grad else Const(output, output._version))
        if out != output_name:
            writer.lines.append(f"{output_name} = {out} * 1" if out in writer.var_names
                                else f"{output_name} = {out}")
        if backward:
            back = "" if v is None else f"torch.tensor({literal(v)})"
            writer.lines.append(f"{output_name}.backward({back})")
        return "\n".join(writer.lines)


class _Writer:
    def __init__(self, trace: Trace, variables, max_lines: int) -> None:
        self.trace, self.max_lines = trace, max_lines
        self.lines: list[str] = []
        self.names: dict[int, str] = {}  # id(node or tensor) -> name in the replay
        self.used = set(_RESERVED)
        self.var_names = set()
        self.var_tensors: dict[int, str] = {}
        for name, t in variables:
            name = replay_name(name)
            self.used.add(name)
            self.var_names.add(name)
            self.var_tensors[id(t)] = name
            entry = trace.entries.get(id(t))
            if entry is not None and entry.tensor is t:
                self.names[id(entry)] = name
            self.lines.append(f"{name} = torch.tensor({literal(t)}, requires_grad=True)")
        self.counter = 0

    def fresh(self, label: str | None) -> str:
        """The script's own name for a value when it had one (``z``, then ``z_2`` for the
        next value bound to ``z``), else ``tmp1``, ``tmp2``…"""
        named = bool(label and label.isidentifier() and "__" not in label)
        base = label if named else "tmp"
        if base in _RESERVED:
            base += "_"
        name, k = (base, 1) if named else (f"{base}1", 1)
        while name in self.used:
            k += 1
            name = f"{base}_{k}" if named else f"{base}{k}"
        self.used.add(name)
        return name

    def ref(self, node: Node) -> str:
        """The replay's name (or inline literal) for ``node``, writing its lines first."""
        stack = [(node, False)]
        while stack:  # iterative post-order: a loop of 10 000 steps is a chain that deep
            n, ready = stack.pop()
            if id(n) in self.names:
                continue
            if isinstance(n, (Leaf, Const)):
                self.names[id(n)] = self.tensor_ref(n)
            elif isinstance(n, Opaque):
                raise Untraceable(n.reason)
            elif ready:
                self.write(n)
            else:
                stack.append((n, True))
                stack.extend((o, False) for o in n.operands if id(o) not in self.names)
        return self.names[id(node)]

    def tensor_ref(self, n: Leaf | Const) -> str:
        t = n.tensor
        if t._version != n.version:
            raise Untraceable("a tensor was changed in place after it was used "
                              "(the replay would read the new values)")
        if id(t) in self.var_tensors:
            return self.var_tensors[id(t)]
        # a leaf this event does not differentiate is a constant here, written as its values
        if t.dim() == 0 and t.dtype.is_floating_point:
            return f"({literal(t)})"
        name = self.fresh("c")
        self.lines.append(f"{name} = torch.tensor({literal(t)})")
        return name

    def write(self, e: Entry) -> None:
        if len(self.lines) >= self.max_lines:
            raise Untraceable(f"the computation is longer than {self.max_lines} operations")
        args = [self.names[id(o)] for o in e.operands]
        name = self.fresh(e.label)
        if isinstance(e.template, tuple):
            self.lines.extend(s.format(*args, out=name) for s in e.template)
        else:
            self.lines.append(f"{name} = {e.template.format(*args)}")
        self.names[id(e)] = name


def replay_name(name: str) -> str:
    """A leaf's name as the replay can write it: ``model.fc.weight`` → ``model_fc_weight``."""
    return name.replace(".", "_")


def literal(t: torch.Tensor) -> str:
    """A tensor's values as a nested list (or number) of exact decimal float texts."""
    if t.is_complex():
        raise Untraceable("complex tensors are not supported")
    short = t.dtype in (torch.float32, torch.float16, torch.bfloat16)
    values = t.detach().to("cpu", torch.float64).tolist()
    return _text(values, short)


def _text(v, short: bool = False) -> str:
    """Exact decimal texts; a float32 value as its shortest text that rounds back to it
    (``0.1``, as PyTorch prints it): the replay then reads what the user typed."""
    if isinstance(v, list):
        return "[" + ", ".join(_text(x, short) for x in v) + "]"
    if not math.isfinite(v):
        raise Untraceable("a non-finite value cannot be written in the replay")
    return str(np.float32(v)) if short else repr(float(v))


def scalar_text(v: Any) -> str:
    """A Python operand inline in a template (numbers, tuples of ints, None, True)."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise Untraceable("a non-finite number cannot be written in the replay")
        return repr(v)
    if isinstance(v, (tuple, list)) and all(isinstance(x, (int, bool)) for x in v):
        return repr(tuple(v)) if isinstance(v, tuple) else repr(list(v))
    if isinstance(v, torch.Size):
        return repr(tuple(v))
    if isinstance(v, slice):
        part = lambda x: "" if x is None else scalar_text(x)  # noqa: E731
        text = f"{part(v.start)}:{part(v.stop)}"
        return text if v.step is None else f"{text}:{part(v.step)}"
    if v is Ellipsis:
        return "..."
    raise Untraceable(f"a {type(v).__name__} argument cannot be written in the replay")
