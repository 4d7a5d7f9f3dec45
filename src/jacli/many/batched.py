"""Values, Jacobians and VJPs at N points at once (``--at-file``): batched autograd.

One program, N points stacked along a new first axis, each variable one (N, *shape) leaf.
Point i's outputs depend only on point i's inputs, so a cotangent given at every point at
once yields every point's VJP in one backward pass. Two ways to run the forward:

* **direct**, for *pointwise* programs (scalar variables, elementwise operations and
  functions only, as the seeds' systems are): the program runs on the (N,) columns as they
  are, exactly as one would write it by hand for a batch, every operation acting point by
  point. With no statements, each output of the comma list is its own function
  (``Plan.outputs``): row i of J is one ``autograd.grad`` through output i alone (m passes
  that together cost about one backward of the whole program), and vᵀJ one backward from
  all outputs at once, output i weighted by v_i.
* **vmap**, for everything else (``sum``, ``@``, indexing, ``view`` keep their per-point
  meaning under ``torch.func.vmap``), and direct programs with statements: J on the joint
  output by ``"isgb"`` (the m cotangents e_i, each given at every point, in one
  ``autograd.grad(..., is_grads_batched=True)``) or ``"rows"`` (one call per e_i); vᵀJ by
  one ``Y.backward(V)``, V = v at every point, read from the leaves' ``.grad``.

``vmap(jacrev)`` is not used: its first call imports ``torch._dynamo`` (~1 s here) and it
was slower warm (bench/many_points.py, where every choice here was measured).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import torch

from jacli.analysis.autograd import forward
from jacli.backends import engine
from jacli.backends.tensors import TorchBackend
from jacli.backends.functions import TABLE
from jacli.language import ir
from jacli.request.command import Command as C

CHUNK_FLOATS = 1 << 22  # floats of results per chunk (32 MB in float64): bounds memory
MAX_CHUNK = 1 << 17  # points per chunk; past ~10⁵ a chunk's fixed cost (~0.3 ms) is noise
STRATEGY = "isgb"  # J on a joint output (vmap, or direct with statements): 1.2–1.5× faster
# than "rows" at 3→3, N=10⁵ (bench/many_points.py, jacli[vmap,*] and jacli[direct,*])
POINTWISE_OPS = frozenset({"add", "sub", "mul", "div", "pow", "neg", "pos"})
POINTWISE_KINDS = frozenset({"elementwise", "gradient"})


@dataclass(frozen=True)
class Plan:
    """How one program is batched, decided once per run. ``outputs``: one program per item
    of a statement-free comma list (direct mode only), else ``None``."""

    program: ir.Program
    names: tuple[str, ...]  # the variables, in the order of X
    wrt: tuple[str, ...]
    direct: bool
    outputs: tuple[ir.Program, ...] | None


def plan(program: ir.Program, shapes: dict[str, tuple[int, ...]], wrt) -> Plan:
    """The plan for ``program`` with variables of ``shapes`` (in order), J over ``wrt``."""
    direct = all(s == () for s in shapes.values()) and _pointwise(program)
    outputs = None
    if direct and not program.statements and isinstance(program.output, ir.Outputs):
        outputs = tuple(replace(program, output=item) for item in program.output.items)
    return Plan(program, tuple(shapes), tuple(wrt), direct, outputs)


def describe(p: Plan, command: str, strategy: str = STRATEGY) -> str:
    """One sentence for the stream's header: how the numbers were batched."""
    forward_text = ("the program run once per chunk on the columns of N points (pointwise: "
                    "scalar variables, elementwise operations)" if p.direct else
                    "one torch.func.vmap forward per chunk of N points")
    if command in (C.vjp, C.grad) and p.outputs is not None:
        how = "vᵀJ by one backward from every output at once, output i weighted by v_i"
    elif command in (C.vjp, C.grad):
        how = "vᵀJ by one Y.backward(V), V = v at every point"
    elif p.outputs is not None:
        how = "row i of J by one torch.autograd.grad through output i alone"
    elif strategy == "isgb":
        how = "J by one torch.autograd.grad(..., is_grads_batched=True) over the rows of I"
    else:
        how = "row i of J by one torch.autograd.grad with cotangent e_i at every point"
    return f"batched over points: {forward_text}; {how}"


def chunk_size(m: int, n: int) -> int:
    """Points per batched call when each point has m outputs and n inputs: J, values and
    inputs (m·n + m + n floats a point) stay within ``CHUNK_FLOATS``."""
    return max(1, min(MAX_CHUNK, CHUNK_FLOATS // (m * n + m + n)))


def chunks(p: Plan, backend: TorchBackend, X: dict[str, torch.Tensor], command: str,
           v: torch.Tensor | None, size: int, strategy: str = STRATEGY
           ) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
    """``(start, batched(...))`` for consecutive slices of ``size`` points of X."""
    N = next(iter(X.values())).shape[0]
    for start in range(0, N, size):
        part = {k: x[start:start + size] for k, x in X.items()}
        yield start, batched(p, backend, part, command, v, strategy)


def batched(p: Plan, backend: TorchBackend, X: dict[str, torch.Tensor], command: str,
            v: torch.Tensor | None, strategy: str = STRATEGY) -> dict[str, torch.Tensor]:
    """Values and J or vᵀJ at N points at once; each X[name] is (N, *shape).

    Returns detached tensors: ``value`` (N, m); ``jacobian`` (N, m, n) for the commands
    jacobian and check; ``vjp`` (N, n) for vjp and grad (v: the flat (m,) weights). n counts
    the elements of the ``wrt`` variables, flattened in ``wrt`` order; a variable the output
    does not depend on gets zero columns. Direct and vmap give the same numbers."""
    leaves = {k: x.detach().requires_grad_(True) if k in p.wrt else x for k, x in X.items()}
    inputs = [leaves[w] for w in p.wrt]
    N = inputs[0].shape[0]
    with torch.enable_grad():
        if p.outputs is not None:
            return _per_output(p, backend, leaves, inputs, N, command, v)
        Y = _direct(p, backend, leaves, N) if p.direct else None
        if Y is None:  # not pointwise, or an output that is a constant: vmap knows best
            Y = torch.func.vmap(_function(p, backend))(*leaves.values())
        out = {"value": Y.detach()}
        if command in (C.jacobian, C.check):
            out["jacobian"] = _jacobian(Y, inputs, strategy)
        if command in (C.vjp, C.grad):
            if Y.requires_grad:
                engine.backward((Y,), (v.reshape(1, -1).expand(Y.shape),))
            out["vjp"] = _flat([x.grad for x in inputs], inputs, N)
    return out


def _function(p: Plan, backend: TorchBackend):
    def f(*xs):
        return forward(p.program, backend, dict(zip(p.names, xs))).reshape(-1)

    return f


def _direct(p: Plan, backend, leaves, N: int) -> torch.Tensor | None:
    """(N, m) from one run on the columns; ``None`` when an output came out unbatched."""
    Y = forward(p.program, backend, leaves).reshape(-1)
    m = len(p.program.output.items) if isinstance(p.program.output, ir.Outputs) else 1
    return Y.view(m, N).T if Y.numel() == m * N else None


def _per_output(p: Plan, backend, leaves, inputs, N: int, command: str,
                v: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Each output of the comma list as its own function. vᵀJ: one backward from all
    outputs at once, output i weighted by v_i (an expanded scalar: no (N, m) cotangent is
    built). J: row i through output i's graph alone, right after its forward (one output's
    graph alive at a time), written into an (m, n, N) buffer — one contiguous copy per
    gradient — and returned as an (N, m, n) view: assembling (N, m, n) directly (strided
    copies, stacks) cost more than the backward itself."""
    if command in (C.vjp, C.grad):
        ys = [_column(forward(sub, backend, leaves), N) for sub in p.outputs]
        roots = [(y, v[i].expand(N)) for i, y in enumerate(ys) if y.requires_grad]
        if roots:
            engine.backward(*zip(*roots))
        return {"value": torch.stack([y.detach() for y in ys]).T,
                "vjp": _flat([x.grad for x in inputs], inputs, N)}
    values, ones = [], inputs[0].new_ones(N)
    J = inputs[0].new_empty(len(p.outputs), len(inputs), N)
    for i, sub in enumerate(p.outputs):
        y = _column(forward(sub, backend, leaves), N)
        values.append(y.detach())
        for j, g in enumerate(_grads(y, inputs, ones)):
            J[i, j] = 0 if g is None else g  # None: output i does not use input j
    return {"value": torch.stack(values).T, "jacobian": J.permute(2, 0, 1)}


def _column(y: torch.Tensor, N: int) -> torch.Tensor:
    """One output at N points, (N,); a constant output (0-d) is the same at every point."""
    return y if y.shape == (N,) else y.reshape(-1).expand(N)


def _jacobian(Y: torch.Tensor, inputs: list[torch.Tensor], strategy: str) -> torch.Tensor:
    """(N, m, n): row i of every point's J is the VJP with cotangent e_i at every point."""
    N, m = Y.shape
    if strategy == "isgb":
        basis = torch.eye(m, dtype=Y.dtype, device=Y.device).unsqueeze(1).expand(m, N, m)
        grads = _grads(Y, inputs, basis, batched=True)  # each (m, N, *shape), or None
        return torch.cat([(g if g is not None else x.new_zeros(m, *x.shape)).reshape(m, N, -1)
                          for g, x in zip(grads, inputs)], dim=2).transpose(0, 1)
    J = Y.new_empty(N, m, sum(x[0].numel() for x in inputs))
    for i in range(m):
        e_i = Y.new_zeros(N, m)
        e_i[:, i] = 1
        J[:, i, :] = _flat(_grads(Y, inputs, e_i, retain=i < m - 1), inputs, N)
    return J


def _grads(Y, inputs, cotangent, batched: bool = False, retain: bool = False) -> list:
    """∂(cotangent · Y)/∂x for each input (with a leading axis of cotangents when
    ``batched``); ``None`` where the output does not depend on x."""
    if not Y.requires_grad:
        return [None] * len(inputs)
    return list(engine.grad((Y,), inputs, (cotangent,), retain_graph=retain,
                            allow_unused=True, batched=batched))


def _flat(grads: list, inputs: list[torch.Tensor], N: int) -> torch.Tensor:
    """(N, n): each input's gradient flattened per point, in ``wrt`` order; zeros for
    ``None`` (autograd's word for "does not depend on it"). Scalar variables are stacked
    into a contiguous (n, N) and returned transposed: one contiguous copy each."""
    grads = [g if g is not None else torch.zeros_like(x) for g, x in zip(grads, inputs)]
    if all(g.dim() == 1 for g in grads):
        return torch.stack(grads).T
    return torch.cat([g.reshape(N, -1) for g in grads], dim=1)


def _pointwise(program: ir.Program) -> bool:
    """Whether every value the program computes is elementwise in its scalar variables, so
    that running it on columns of N points computes each point independently."""
    if any(not isinstance(s, ir.Assign) or not _pointwise_node(s.value)
           for s in program.statements):
        return False
    out = program.output
    items = out.items if isinstance(out, ir.Outputs) else (out,)
    return all(_pointwise_node(item) for item in items)


def _pointwise_node(node: ir.Node) -> bool:
    if isinstance(node, (ir.Num, ir.Name, ir.Const)):
        return True
    if isinstance(node, ir.Op):
        return node.op in POINTWISE_OPS and all(_pointwise_node(a) for a in node.args)
    if isinstance(node, ir.Call):
        row = TABLE.get(node.fn)
        return (row is not None and row.kind in POINTWISE_KINDS and not node.params
                and all(_pointwise_node(a) for a in node.args))
    return False  # indexing, list literals, nested comma lists, anything new: use vmap
