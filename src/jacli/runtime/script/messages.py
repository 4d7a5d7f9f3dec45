"""PyTorch's and Python's errors, said as one line of a script's output: the first sentence,
which library said it, and a hint for the ones learners meet (a freed graph, a non-scalar
backward, a leaf written in place, integer leaves)."""

from __future__ import annotations


def first_line(e: Exception) -> str:
    """The first line of an error, cut after its first sentence when it is long."""
    text = str(e).strip().split("\n")[0] or type(e).__name__
    if len(text) > 160 and ". " in text[:400]:
        text = text[:text.index(". ", 0, 400) + 1]
    return text[:400]


def source_of(fn) -> str:
    return "PyTorch: " if getattr(fn, "__module__", "") and "torch" in str(
        getattr(fn, "__module__", "")) else ""


def hint_for(e: Exception) -> str | None:
    text = str(e)
    if "backward through the graph a second time" in text:
        return "pass retain_graph=True to the first backward(), as PyTorch asks"
    if "grad can be implicitly created only for scalar outputs" in text:
        return "give backward a gradient of the output's shape: y.backward(torch.ones_like(y))"
    if "modified by an inplace operation" in text:
        return "do not write in place into a tensor autograd saved; clone it first"
    if "Only Tensors of floating point" in text:
        return "make the values floats: write 1.0 for 1, or pass dtype=torch.float"
    if "leaf Variable that requires grad" in text:
        return "update parameters inside `with torch.no_grad():`"
    return None


def describe(node) -> str:
    return {"NamedExpr": "':=' (walrus)", "Await": "'await'", "Yield": "'yield'",
            "YieldFrom": "'yield from'", "Starred": "'*' here"}.get(
        type(node).__name__, f"'{type(node).__name__}'")
