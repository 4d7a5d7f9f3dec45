"""How the replay writes what ``nn`` layers and losses compute, in jacli's language.

The real run calls PyTorch's own modules (so weights are initialised from the seeded
generator exactly as PyTorch does and the values are PyTorch's); these templates only say what
the replay writes for the same computation: ``{0}`` is the input, the layer's parameters
follow. ``None``: the replay cannot write it (the event keeps PyTorch's numbers, without
formulas).
"""

from __future__ import annotations

from typing import Any

import torch

_ACTIVATIONS = {"ReLU": "relu({0})", "Tanh": "tanh({0})", "Sigmoid": "sigmoid({0})",
                "Softplus": "softplus({0})", "Identity": "{0}"}
_REDUCE = {"mean": "({}).mean()", "sum": "({}).sum()", "none": "{}"}


def layer(module: torch.nn.Module, x: torch.Tensor) -> tuple[str, list] | None:
    """(template, operands) for ``module(x)``, or ``None``."""
    kind = type(module).__name__
    if kind == "Linear":
        if module.bias is None:
            return "({0}) @ ({1}).T", [x, module.weight]
        return "({0}) @ ({1}).T + ({2})", [x, module.weight, module.bias]
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind], [x]
    if kind == "Flatten" and (module.start_dim, module.end_dim) == (1, -1) and x.dim() == 2:
        return "{0}", [x]
    return None


def loss(name: str, args: list, kwargs: dict) -> tuple[str, list] | None:
    """(template, operands) for the loss ``name`` (``mse_loss``, ``MSELoss``…) of
    ``args``, or ``None``."""
    reduction = kwargs.get("reduction", "mean")
    if len(args) != 2 or reduction not in _REDUCE or set(kwargs) - {"reduction"}:
        return None
    a, b = args
    key = name.lower().replace("_", "").removesuffix("loss")
    per_item = {"mse": "(({0}) - ({1}))**2", "l1": "abs(({0}) - ({1}))",
                "bce": "-(({1}) * log({0}) + (1 - ({1})) * log(1 - ({0})))",
                "binarycrossentropy": "-(({1}) * log({0}) + (1 - ({1})) * log(1 - ({0})))",
                "bcewithlogits": "softplus({0}) - ({1}) * ({0})",
                "binarycrossentropywithlogits": "softplus({0}) - ({1}) * ({0})"}.get(key)
    if per_item is not None:
        if not isinstance(b, torch.Tensor) or a.shape != b.shape:
            return None
        return _REDUCE[reduction].format(per_item), [a, b]
    if key in ("crossentropy", "nll") and isinstance(a, torch.Tensor) and a.dim() in (1, 2):
        target = _one_hot(a, b)
        if target is None:
            return None
        logp = ("(({0}) - log(exp({0}).sum(dim=-1, keepdim=True)))" if key == "crossentropy"
                else "({0})")
        return _REDUCE[reduction].format(f"-((({{1}}) * {logp}).sum(dim=-1))"), [a, target]
    return None


def _one_hot(logits: torch.Tensor, target: Any) -> torch.Tensor | None:
    """Class indices as one-hot rows of ``logits``' dtype; probabilities as they are."""
    if not isinstance(target, torch.Tensor):
        return None
    if target.dtype.is_floating_point:
        return target.detach() if target.shape == logits.shape else None
    classes = logits.shape[-1]
    if target.shape != logits.shape[:-1] or (target < 0).any() or (target >= classes).any():
        return None
    return torch.nn.functional.one_hot(target, classes).to(logits.dtype)
