"""Autograd at a point: the numeric Jacobian, ``y.backward(v)`` itself, J u, H and H v.

The numeric Jacobian is vectorised (``torch.autograd.functional.jacobian(vectorize=True)``,
27 ms on its first call here, against 0.6–0.9 s for ``torch.func``'s first call, which
imports ``torch._dynamo``) — never the tutorials' loop of ``backward(e_i)``. The VJP is
literally ``y.backward(v)`` on a fresh graph, read back from each leaf's ``.grad``.
"""

from __future__ import annotations

from typing import Any

import torch

from jacli.backends import engine
from jacli.backends.tensors import TorchBackend
from jacli.errors import LimitError, ShapeError
from jacli.language import ir
from jacli.runtime.interpret import compiled
from jacli.runtime.lanes import lanes
from jacli.runtime.lru import Lru


def forward(program: ir.Program, backend: TorchBackend, leaves: dict[str, torch.Tensor]):
    """The output tensor for the given leaf tensors."""
    return torch.as_tensor(compiled(program, backend)(leaves))


def value(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor]):
    """``forward`` at the point, detached; a scalar system in lanes (the same numbers)."""
    names, vector = getattr(point, "scalars", ((), None))
    run = in_lanes(program, backend, point, list(names)) if len(names) == len(point) else None
    if run is None:
        return forward(program, backend, point).detach()
    return run(vector).reshape(run.shape).detach()


KEEPS_VALUE = ("af_rev", "af_fwd", "vjp_vmap")  # those that can hand back their forward's y


def jacobian(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
             wrt: list[str], impl: str = "af_rev", keep: list | None = None,
             lanes: bool = True) -> torch.Tensor:
    """J as an (m, n) tensor: m output elements, n = total elements of the ``wrt`` variables,
    both flattened row-major, variables in ``wrt`` order. The function is taken of one flat
    input, so J comes back as one block. ``impl`` (chosen by ``modes.choose_mode`` from
    bench/ measurements):

    * ``af_rev`` / ``af_fwd``: ``torch.autograd.functional.jacobian(vectorize=True)``, reverse
      or forward; 24 ms first call, fastest on scalar systems of every shape;
    * ``vjp_vmap``: ``vmap`` of ``torch.func.vjp``'s pullback over the rows of I, for tensor
      programs with n >= m: ``torch.func.jacrev``'s own method without its wrappers (equal at
      1024², 10–20% faster below 256² in bench/); its first call imports torch._dynamo, ~0.7 s;
    * ``jvp_vmap``: ``vmap`` of ``torch.func.jvp`` over the columns of I, for large tensor
      programs with n < m (matches jacfwd without importing torch._dynamo).

    ``keep``: a list that receives the flat output of the one unbatched forward pass, for
    the implementations in ``KEEPS_VALUE`` (the same numbers ``value`` gives). ``lanes``:
    False when the caller knows the program does not run in lanes (no plan looked up).
    """
    try:  # not a context manager: this wraps calls of ~0.2 ms, where each µs shows
        return _jacobian(program, backend, point, wrt, impl, keep, lanes)
    except (MemoryError, RuntimeError) as e:
        limit = _allocation_error(e, "the numeric Jacobian")
        if limit is None:
            raise
        raise limit from None


def _jacobian(program, backend, point, wrt, impl, keep=None, lanes=True):
    f, flat = flat_function(program, backend, point, wrt, lanes_ok=lanes)
    if impl == "af_fwd":
        try:
            return engine.jacfwd(f, flat, keep)  # AF's forward mode, as it computes
        except (RuntimeError, ShapeError):  # forward AD refuses this form (an index_put of
            pass  # a 0-d view): reverse mode computes the same J
    if impl in ("af_rev", "af_fwd"):
        return _reverse(f, flat, keep)
    from torch import func  # only for tensor programs: vjp's pullback imports torch._dynamo

    if impl == "vjp_vmap":
        y, pullback = func.vjp(f, flat)
        if keep is not None:
            keep.append(y)
        eye = engine.basis(y.numel(), y.dtype, y.device)
        return engine.unshared(func.vmap(pullback)(eye)[0], eye)
    eye = engine.basis(flat.numel(), flat.dtype, flat.device)
    return engine.unshared(func.vmap(lambda u: func.jvp(f, (flat,), (u,))[1])(eye).T, eye)


def _reverse(f, flat: torch.Tensor, keep: list | None) -> torch.Tensor:
    """``torch.autograd.functional.jacobian(f, flat, vectorize=True)`` (reverse mode) as it
    computes J — one forward pass, then the rows of I pulled back through it in one batched
    ``autograd.grad`` (``is_grads_batched``: the same vmap of the same backward) — without its
    wrappers, a fifth to a quarter of a small system's J (2×2: 365 → 300 µs; 3×3: 525 →
    385 µs)."""
    x = flat.detach().requires_grad_(True)
    with torch.enable_grad():
        y = f(x)
    if keep is not None:
        keep.append(y)
    m, n = y.numel(), x.numel()
    if not y.requires_grad or m == 0 or n == 0:  # nothing reaches x: AF's zeros
        return torch.zeros(m, n, dtype=y.dtype, device=y.device)
    eye = engine.basis(m, y.dtype, y.device)
    (J,) = engine.grad((y,), (x,), (eye,), batched=True, allow_unused=True, materialize=True)
    return engine.unshared(J, eye)


def _allocation_error(e: BaseException, what: str) -> LimitError | None:
    """An allocation that failed (torch's "can't allocate memory", or MemoryError) is a limit
    of this machine: exit 3 with a hint, not an internal error; None for anything else."""
    if isinstance(e, MemoryError):
        return LimitError(f"out of memory computing {what}", hint="use smaller tensors")
    if isinstance(e, RuntimeError) and "allocate" in str(e):
        return LimitError(f"out of memory computing {what}: {str(e).splitlines()[0]}",
                          hint="use smaller tensors")
    return None


def backward(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
             v: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any]]:
    """Exactly ``y.backward(v)``: returns y and each variable's ``.grad`` (zeros when autograd
    left it ``None``, i.e. the output does not depend on it), plus which ones were ``None``."""
    leaves = {k: t.detach().clone().requires_grad_(True) for k, t in point.items()}
    y = forward(program, backend, leaves)
    if y.requires_grad:
        engine.backward((y,), (v.reshape(y.shape),))  # y.backward(v), as torch runs it
    grads = {k: (t.grad if t.grad is not None else torch.zeros_like(t)) for k, t in leaves.items()}
    untouched = [k for k, t in leaves.items() if t.grad is None]
    return y.detach(), {"grads": grads, "untouched": untouched}


def torch_repr(t: torch.Tensor) -> str:
    """What ``print(x.grad)`` shows, without the dtype suffix jacli's float64 would add."""
    text = repr(t.detach().cpu())
    return text.replace(", dtype=torch.float64", "").replace(", dtype=torch.float32", "")


def flat_function(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
                  wrt: list[str], lanes_ok: bool = False):
    """f(flat) where ``flat`` concatenates the ``wrt`` variables: the n inputs as one vector.
    f binds them over ``point``'s own entries (a merge overrides them: nothing to filter).
    ``lanes_ok``: a scalar system may run in lanes (``runtime.lanes``: the same numbers)."""
    tensors = [point[w] for w in wrt]

    if all(t.dim() == 0 for t in tensors):  # a scalar system: one vector and one unbind,
        names, vector = getattr(point, "scalars", ((), None))  # not n views, n splits, a cat
        vector = vector if vector is not None and names == tuple(wrt) else torch.stack(tensors)
        f = in_lanes(program, backend, point, wrt) if lanes_ok else None
        if f is not None:
            return f, vector
        run = compiled(program, backend)

        def f(flat: torch.Tensor) -> torch.Tensor:
            return _flat(run({**point, **dict(zip(wrt, flat.unbind(0)))}))

        return f, vector
    run = compiled(program, backend)

    if len(tensors) == 1:  # one tensor variable: no split, and no reshape when it is a vector
        (name,), shape = wrt, tensors[0].shape

        def f(flat: torch.Tensor) -> torch.Tensor:
            return _flat(run({**point, name: flat if len(shape) == 1 else flat.reshape(shape)}))

        return f, tensors[0] if len(shape) == 1 else tensors[0].reshape(-1)  # no fresh view

    sizes = [t.numel() for t in tensors]
    shapes = [t.shape for t in tensors]

    def f(flat: torch.Tensor) -> torch.Tensor:
        bound = {w: p.reshape(s) for w, p, s in zip(wrt, torch.split(flat, sizes), shapes)}
        return _flat(run({**point, **bound}))

    return f, torch.cat([t.reshape(-1) for t in tensors])


LANES = Lru(64)  # lanes plans by (program, backend kind, names), as interpret.LOWERED


def in_lanes(program, backend, point, wrt):
    """The lanes function of a scalar system (``wrt`` then the other variables, all scalars,
    as one vector), or ``None``."""
    chosen = set(wrt)
    rest = [k for k in point if k not in chosen]
    if any(point[k].dim() != 0 for k in rest):
        return None
    names = (*wrt, *rest)
    key = (id(program), backend.share_key, names)
    entry = LANES.get(key)
    if entry is None:
        entry = (program, lanes(program, backend, names))
        LANES.put(key, entry)
    run = entry[1]
    if run is None or not rest:
        return run
    others = torch.stack([point[k] for k in rest])
    f = lambda flat: run(torch.cat([flat, others]))  # noqa: E731
    f.shape = run.shape
    return f


def _flat(y: torch.Tensor) -> torch.Tensor:
    # each op costs a few µs under vmap: skip the no-op reshape (small J runs ~200 µs)
    return y if y.dim() == 1 else y.reshape(-1)


def jvp(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
        wrt: list[str], u: torch.Tensor) -> torch.Tensor:
    """J u by forward mode (dual numbers): one pass, no Jacobian formed. ``u`` is flat (n,).

    ``torch.autograd.forward_ad`` rather than ``torch.func.jvp``: the latter's first call
    imports ``torch._dynamo`` (0.6–0.9 s here)."""
    import torch.autograd.forward_ad as fwAD

    f, flat = flat_function(program, backend, point, wrt)
    try:
        with fwAD.dual_level():
            y = f(fwAD.make_dual(flat, u.reshape(flat.shape)))
            tangent = fwAD.unpack_dual(y).tangent
    except (RuntimeError, ShapeError):  # forward AD refuses some forms (an index_put of a
        # 0-d value into a tensor later reduced): J from reverse mode, times u, is J u
        J = jacobian(program, backend, point, wrt, "af_rev")
        return (J @ u.reshape(-1).to(J.dtype)).reshape(f(flat).shape).detach()
    return torch.zeros_like(y.detach()) if tangent is None else tangent.detach()


def hessian(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
            wrt: list[str]) -> torch.Tensor:
    """H (n, n) of a scalar output over the flattened ``wrt`` inputs."""
    f, flat = flat_function(program, backend, point, wrt)
    H = torch.autograd.functional.hessian(lambda x: f(x).sum(), flat, vectorize=True)
    # when the gradient does not depend on x (abs away from 0), autograd's zero is an
    # "efficient zero" tensor without storage, which .tolist() refuses: copy it into storage
    return H.clone()


def hvp(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
        wrt: list[str], v: torch.Tensor) -> torch.Tensor:
    """H v without forming H: reverse-over-reverse, two backward passes."""
    f, flat = flat_function(program, backend, point, wrt)
    x = flat.detach().requires_grad_(True)
    y = f(x).sum()
    if not y.requires_grad:  # the output does not depend on x for autograd (detach): H = 0
        return torch.zeros_like(flat)
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    if not g.requires_grad:  # the gradient is constant: H = 0
        return torch.zeros_like(flat)
    (hv,) = engine.grad((g,), (x,), (v.reshape(g.shape),), allow_unused=True)
    return torch.zeros_like(flat) if hv is None else hv.clone()  # see hessian


def autograd_graph(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
                   label: str) -> dict:
    """The graph PyTorch records, from the output's ``grad_fn`` back to the leaves.

    Each node is ``{"id", "name"}`` (``MulBackward0`` …) with ``"children"``; a leaf's
    ``AccumulateGrad`` names its variable. A node reached twice is listed once and then
    referred to as ``{"id", "name", "shared": true}``: the graph is a DAG, not a tree.
    """
    leaves = {k: t.detach().clone().requires_grad_(True) for k, t in point.items()}
    names = {id(t): k for k, t in leaves.items()}
    y = forward(program, backend, leaves)
    seen: dict[int, int] = {}

    def visit(fn) -> dict:
        if id(fn) in seen:
            return {"id": seen[id(fn)], "name": type(fn).__name__, "shared": True}
        seen[id(fn)] = len(seen)
        node = {"id": seen[id(fn)], "name": type(fn).__name__}
        variable = getattr(fn, "variable", None)
        if variable is not None:
            node["leaf"] = names.get(id(variable), "?")
            node["shape"] = list(variable.shape)
        node["children"] = [visit(f) for f, _ in fn.next_functions if f is not None]
        return node

    root = None if y.grad_fn is None else visit(y.grad_fn)
    return {"output": label, "shape": list(y.shape), "root": root, "nodes": len(seen)}
