"""How a call that made a tensor requiring grad is written to the trace: PyTorch's function
by its own name (``torch.sin({0})``, ``{0}.sum(dim=1)``), nn layers and losses by the
templates of ``layers``, and what the replay cannot write refused with the reason."""

from __future__ import annotations

from typing import Any

import torch

from jacli.runtime.script import layers
from jacli.runtime.script import vocabulary as V
from jacli.runtime.script.objects import Builtin
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
