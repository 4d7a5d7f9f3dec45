"""What a script calls its tensors: leaves by the names it bound them to (globals, then the
innermost function's names, then ``model.fc.weight`` for parameters of modules), outputs by the
expression it wrote (``z.mean()``), and the path it took (loop counts)."""

from __future__ import annotations

import ast

import torch

from jacli.runtime.script.objects import Func


class Naming:
    """Mixin of the machine."""

    # -- names of leaves ------------------------------------------------------------------
    def global_leaves_dict(self) -> dict[str, torch.Tensor]:
        found: dict[str, torch.Tensor] = {}
        for name, value in self.globals.names.items():
            if isinstance(value, torch.Tensor) and value.is_leaf and value.requires_grad:
                found.setdefault(name, value)
            elif isinstance(value, torch.nn.Module):
                for pname, p in value.named_parameters():
                    found.setdefault(f"{name}.{pname}", p)
        return found

    def global_leaves(self) -> list[tuple[str, torch.Tensor]]:
        return list(self.global_leaves_dict().items())

    def named(self, tensors: list) -> list[tuple[str, torch.Tensor]]:
        """Each tensor with the name the script knows it by (globals, then the innermost
        function's names, then parameters of modules), else ``leaf1``, ``leaf2``…"""
        names: dict[int, str] = {}
        scope = self.scope
        while scope is not None:
            for name, value in scope.names.items():
                if isinstance(value, torch.Tensor):
                    names.setdefault(id(value), name)
            scope = scope.parent
        for name, t in self.global_leaves():
            names.setdefault(id(t), name)
        out, used = [], set()
        for k, t in enumerate(tensors, 1):
            name = names.get(id(t), f"leaf{k}")
            while name in used:
                name += "_"
            used.add(name)
            out.append((name, t))
        return out

    def label_of(self, node, t) -> str:
        target = node.func.value if isinstance(node, ast.Call) and isinstance(
            node.func, ast.Attribute) and node.func.attr == "backward" else \
            (node.args[0] if isinstance(node, ast.Call) and node.args else None)
        if isinstance(target, ast.Name):
            return target.id
        for name, value in self.scope.names.items():
            if value is t:
                return name
        return ast.unparse(target)[:40] if target is not None else "y"

    def parameter_names(self, f, count: int) -> list[str]:
        params = [p.arg for p in f.args.args] if isinstance(f, Func) else []
        names = params[:count] + [f"x{k}" for k in range(len(params) + 1, count + 1)]
        return [n if n not in ("self",) else f"x{i}" for i, n in enumerate(names, 1)]

    def path_notes(self) -> list[str]:
        notes = []
        for line, (kind, iterations, entered) in sorted(self.loops.items()):
            times = "" if entered == 1 else f" (entered {entered} times)"
            notes.append(f"{kind} at line {line}: {iterations} iterations{times}")
        return notes


