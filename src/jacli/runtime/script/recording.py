"""How a call that made a tensor requiring grad is written to the trace: PyTorch's function
by its own name (``torch.sin({0})``, ``{0}.sum(dim=1)``), nn layers and losses by the
templates of ``layers``, and what the replay cannot write refused with the reason."""

from __future__ import annotations

from typing import Any

import torch

from jacli.runtime.script import layers
from jacli.runtime.script import vocabulary as V
from jacli.runtime.script.objects import Builtin, ScriptClass
from jacli.runtime.script.trace import Untraceable, scalar_text

# methods whose result is the same values: the replay (one dtype, one device) writes {0}
_SAME = {"float", "double", "half", "to", "type", "type_as", "cpu", "cuda", "contiguous"}


class Recorder:
    """Mixin of the machine: ``record_call`` and ``record_how``."""

    def record_how(self, out, how, node, what: str) -> None:
        if how is None:
            return self.untraceable(out, node, what)
        template, operands = how
        self.trace.record(out, template, operands, node.lineno)

    def record_call(self, out: Any, f: Builtin, args: list, kwargs: dict, node) -> None:
        """Write a call that made a tensor requiring grad to the trace."""
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            if isinstance(out, (tuple, list)):  # chunk, split, unbind, max(dim): not replayed
                self.untraceable(out, node, f.name)
            return
        name = f.name
        short = name.rsplit(".", 1)[-1]
        if not name.startswith(("torch.", "Tensor.")):
            if name == "abs" and len(args) == 1:
                return self.trace.record(out, "abs({0})", args, node.lineno)
            return self.untraceable(out, node, f"{name}()")
        if name.startswith("Tensor.") and short in V.IN_PLACE:
            return  # written by the machine (in_place)
        if name.startswith("Tensor.") and short in _SAME:
            return self.trace.record(out, "{0}", [f.owner], node.lineno)
        if name.startswith("torch.nn.functional.") and short.endswith("loss") or \
                short in ("cross_entropy", "nll_loss", "binary_cross_entropy",
                          "binary_cross_entropy_with_logits"):
            return self.record_how(out, layers.loss(short, args, kwargs), node, name)
        if name == "torch.nn.functional.linear" and len(args) in (2, 3) and not kwargs:
            t = "({0}) @ ({1}).T" + (" + ({2})" if len(args) == 3 else "")
            return self.trace.record(out, t, args, node.lineno)
        try:
            parts, operands = [], []
            if name.startswith("Tensor."):
                operands.append(f.owner)
            for a in args:
                parts.append(self.operand_text(a, operands))
            for k, v in kwargs.items():
                if k in ("dtype", "device", "out", "requires_grad"):
                    continue
                parts.append(f"{k}={self.operand_text(v, operands)}")
        except Untraceable as e:
            return self.untraceable(out, node, f"{name}: {e}")
        head = "{0}." + short if name.startswith("Tensor.") else name
        self.trace.record(out, f"{head}({', '.join(parts)})", operands, node.lineno)

    def operand_text(self, value: Any, operands: list) -> str:
        if isinstance(value, torch.Tensor):
            operands.append(value)
            return "{%d}" % (len(operands) - 1)
        if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
            return "[" + ", ".join(self.operand_text(v, operands) for v in value) + "]"
        return scalar_text(value)

    def shadow_forward(self, cls: ScriptClass, args: list, out, node) -> None:
        """A custom ``autograd.Function``: PyTorch's run uses its backward; the replay writes
        its *forward* (run once more, with grad on, on the same inputs) so the formulas are the
        forward's true derivative — compared with what the custom backward gave."""
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            return
        state = torch.random.get_rng_state()  # the shadow run must not move the generator
        try:
            with torch.enable_grad():
                shadow = self.invoke(cls.methods["forward"], [Context(), *args], {})
        except Exception:  # the replay is extra: PyTorch's own call already succeeded
            shadow = None
        finally:
            torch.random.set_rng_state(state)
        entry = self.trace.node(shadow) if isinstance(shadow, torch.Tensor) else None
        if entry is None or not hasattr(entry, "template"):
            return self.untraceable(out, node, f"{cls.name}.apply")
        self.trace.record_nodes(out, entry.template, list(entry.operands), node.lineno)
        self.custom.append(f"line {node.lineno}: {cls.name}.apply runs its own backward; the "
                           "formulas are its forward's derivative, checked against it")


class Context:
    """The ``ctx`` of a forward run again for the replay: saves and attributes, no graph."""

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        pass
