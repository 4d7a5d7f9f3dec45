"""``print(...)`` and ``display(...)`` in a script: jacli's tables show what they would, so
nothing is printed; their arguments still run for the gradient events inside them, and a
``.grad`` they read of a tensor that is not a leaf is said (PyTorch prints None there).
"""

from __future__ import annotations

import ast

import torch

from jacli.errors import JacliError, NameLookupError, ParseError, ScriptError


class Printing:
    """Mixin of the machine: ``shown_calls(node)`` for a print's call node."""

    def shown_calls(self, node: ast.Call) -> None:
        """Run a print's arguments that call something, for their gradient events
        (``print(torch.autograd.grad(y, x))``, ``print(pullback(v))``); what jacli cannot
        run there (``.numpy()``, formatting) is skipped as the print is, unless an event
        already happened."""
        for n in (n for a in node.args for n in ast.walk(a)):
            if isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.value, ast.Name):
                self.non_leaf_grad(n)
        if not any(isinstance(n, ast.Call) for a in node.args for n in ast.walk(a)):
            return
        before = len(self.events)
        try:
            self.items(node.args)
        except (ParseError, NameLookupError, ScriptError):
            if len(self.events) != before:
                raise

    def non_leaf_grad(self, node: ast.Attribute) -> None:
        """``x.grad`` of a tensor that is not a leaf (``torch.tensor(…, requires_grad=True)
        * 2``): PyTorch prints None and warns; say so, since jacli shows the leaf's."""
        try:
            t = self.evaluate(node.value)
        except JacliError:
            return
        if isinstance(t, torch.Tensor) and t.requires_grad and not t.is_leaf and \
                not t.retains_grad:  # (retain_grad() keeps one)
            self.custom.append(f"line {node.lineno}: {node.value.id} is not a leaf (it is "
                               "computed from one), so PyTorch's .grad of it is None")
