"""The autograd graph as a Rich tree (from the output back to the leaves) or Graphviz DOT."""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from jacli.result import Result


def render(result: Result) -> Tree:
    g = result.extras["graph"]
    tree = Tree(Text(f"{g['output']} {_shape(g['shape'])} — {g['nodes']} node(s), "
                     "read from the output back to the leaves", style="bold"))
    if g["root"] is None:
        tree.add(Text("no grad_fn: the output does not depend on any variable", style="yellow"))
    else:
        _add(tree, g["root"])
    return tree


def _add(parent: Tree, node: dict) -> None:
    if node.get("shared"):
        parent.add(Text(f"{node['name']} #{node['id']} (shared, shown above)", style="dim"))
        return
    label = Text(f"{node['name']} #{node['id']}")
    if "leaf" in node:
        label.append(f"  → {node['leaf']}.grad {_shape(node['shape'])}", style="cyan")
    branch = parent.add(label)
    for child in node["children"]:
        _add(branch, child)


def _shape(shape: list[int]) -> str:
    return "(scalar)" if not shape else "(" + "×".join(map(str, shape)) + ")"


def render_dot(result: Result) -> str:
    """``digraph``: one box per grad_fn node, an edge from each node to what it feeds back to."""
    g = result.extras["graph"]
    lines = ["digraph autograd {", "  rankdir=BT;", '  node [shape=box, fontname="monospace"];',
             f'  out [label="{g["output"]} {_shape(g["shape"])}", shape=ellipse];']
    seen: set[int] = set()

    def walk(node: dict) -> None:
        if node["id"] in seen or node.get("shared"):
            return
        seen.add(node["id"])
        label = node["name"] + (f"\\n{node['leaf']}.grad" if "leaf" in node else "")
        lines.append(f'  n{node["id"]} [label="{label}"];')
        for child in node["children"]:
            lines.append(f"  n{child['id']} -> n{node['id']};")
            walk(child)

    if g["root"] is not None:
        lines.append(f"  n{g['root']['id']} -> out;")
        walk(g["root"])
    lines.append("}")
    return "\n".join(lines)
