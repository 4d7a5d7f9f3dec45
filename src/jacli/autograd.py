"""The torch backend: tensors, the numeric Jacobian, and ``y.backward(v)`` itself.

The numeric Jacobian is vectorised (``torch.autograd.functional.jacobian(vectorize=True)``,
27 ms on its first call here, against 0.6–0.9 s for ``torch.func``'s first call, which
imports ``torch._dynamo``) — never the tutorials' loop of ``backward(e_i)``. The VJP is
literally ``y.backward(v)`` on a fresh graph, read back from each leaf's ``.grad``.
Subscript assignment is an out-of-place ``index_put``, so functional transforms still work.
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction
from functools import partial, reduce
from typing import Any, Callable

import torch

from jacli.errors import DeviceError, LimitError, UsageError
from jacli.interpret import evaluator
from jacli.language import ir

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N``; a clear error when this machine has no such device."""
    if name == "cpu":
        return torch.device("cpu")
    kind, _, index = name.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise UsageError(f"--device {name!r} is not a device jacli knows",
                         hint="use cpu, cuda or cuda:N", where="--device")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise DeviceError(f"--device {name}: no CUDA device is available on this machine",
                          hint="use --device cpu (the default)", where="--device")
    if index and int(index) >= count:
        raise DeviceError(f"--device {name}: no CUDA device {int(index)} on this machine "
                          f"(it has {count}: cuda:0 to cuda:{count - 1})",
                          hint="use --device cuda (the first one)", where="--device")
    return torch.device(name)


class Point(dict):
    """The variables' tensors at one point, by name, as ``TorchBackend.point`` makes them.

    Its scalar variables are the 0-d views of one vector, kept as ``scalars`` (their names in
    order, and the vector): a scalar system's flat input for J is that vector, where a plain
    dict needs a ``torch.stack`` of n 0-d tensors on every call (measured: 4–8% of J at
    n >= 200, the stack touching n tensors the batched backward has pushed out of cache).
    Never written, like every tensor jacli makes."""

    scalars: tuple[tuple[str, ...], torch.Tensor | None] = ((), None)


class TorchBackend:
    """Evaluates the IR on tensors of one dtype on one device."""

    def __init__(self, dtype: str = "float64", device: str = "cpu") -> None:
        if dtype not in DTYPES:
            raise UsageError(f"--dtype {dtype!r} is not supported", hint="float64 or float32",
                             where="--dtype")
        self.dtype = DTYPES[dtype]
        self.device = resolve_device(device)
        self._constants: dict[tuple[int, int], torch.Tensor] = {}
        self._lowered: dict[int, tuple[ir.Program, Callable]] = {}

    def evaluator(self, program: ir.Program) -> Callable[[dict], Any]:
        """``program`` lowered for this backend, once (``interpret.evaluator``); the program
        is kept alongside so its ``id`` stays unique while cached."""
        entry = self._lowered.get(id(program))
        if entry is None:
            entry = self._lowered[id(program)] = (program, evaluator(program, self))
        return entry[1]

    def point(self, values: dict) -> Point:
        """Exact values by name (``Fraction`` or nested lists of them) as one ``Point``: the
        scalar variables in one ``torch.tensor`` call, as views of one vector."""
        names = tuple(k for k, v in values.items() if not isinstance(v, list))
        vector = self.tensor([values[k] for k in names])
        views = dict(zip(names, vector.unbind(0)))
        point = Point((k, views[k] if k in views else self.tensor(v)) for k, v in values.items())
        point.scalars = (names, vector)
        return point

    def tensor(self, value) -> torch.Tensor:
        """Exact nested ``Fraction`` lists to a tensor (rounded once, to nearest)."""
        return torch.tensor(_floats(value), dtype=self.dtype, device=self.device)

    def constant(self, value: Fraction) -> torch.Tensor:
        """A literal as a 0-d tensor, made once per backend (a program is evaluated many
        times: forward, Jacobian, backward; tensors are never written in place)."""
        key = (value.numerator, value.denominator)  # hashing ints is cheaper than a Fraction
        if key not in self._constants:
            t = torch.tensor(_float(value), dtype=self.dtype, device=self.device)
            t.jacli_literal = _float(value)  # lets pow use a Python exponent (PowBackward0)
            self._constants[key] = t
        return self._constants[key]

    def named_constant(self, name: str) -> torch.Tensor:
        return torch.tensor({"pi": math.pi}[name], dtype=self.dtype, device=self.device)

    def full(self, shape, value) -> torch.Tensor:
        return torch.full(tuple(shape), float(value), dtype=self.dtype, device=self.device)

    def eye(self, n: int, m: int | None = None) -> torch.Tensor:
        return torch.eye(n, n if m is None else m, dtype=self.dtype, device=self.device)

    def random(self, shape) -> torch.Tensor:
        # NaN, not random numbers: a value read before it is written must not look plausible
        return self.full(shape, math.nan)

    def stack(self, items: list) -> torch.Tensor:
        return torch.stack([torch.as_tensor(i) for i in items])

    def concat(self, items: list) -> torch.Tensor:
        if all(i.dim() == 0 for i in items):  # a scalar system: one StackBackward node, not
            return torch.stack(items)  # a cat of m reshape views (same values, fewer nodes)
        return torch.cat([i.reshape(-1) for i in items])

    def op(self, op: str, a, b=None) -> torch.Tensor:
        if op == "neg":
            return -a
        if op == "pos":
            return a
        return _BINARY[op](a, b)

    def binary(self, op: str) -> Callable:
        """The function of a binary operator, for lowered programs."""
        return _BINARY[op]

    def function(self, row) -> Callable:
        """A function-table row's torch meaning, for lowered programs: an elementwise row's
        torch function itself (``torch.sin``), one builtin call per node as hand-written
        PyTorch makes it (through the row's lambdas it was four Python calls, 2–3% of a
        scalar system's Jacobian); any other row with this backend bound."""
        if isinstance(row.torch, str):  # "sin", "nn.functional.softplus"
            return reduce(getattr, row.torch.split("."), torch)
        return partial(row.torch, self)

    def operand(self, value: Fraction) -> float:
        """A literal beside a tensor operand, as hand-written PyTorch has it: a Python float
        (``2*x``, ``x**2``), which torch wraps as a scalar of the tensor's dtype."""
        return _float(value)

    def index(self, value, index: tuple) -> torch.Tensor:
        return value[index]

    def setitem(self, value, index: tuple, item) -> torch.Tensor:
        """``value[index] = item`` out of place: the positions are found on an index grid."""
        grid = torch.arange(value.numel(), device=value.device).view(value.shape)
        positions = grid[index].reshape(-1)
        target_shape = grid[index].shape
        item = torch.as_tensor(item, dtype=value.dtype).expand(target_shape).reshape(-1)
        return value.reshape(-1).index_put((positions,), item).view(value.shape)

    def stop_gradient(self, value) -> torch.Tensor:
        return value.detach()

    def shape(self, value) -> tuple[int, ...]:
        return tuple(value.shape)


def _pow(a, b):
    # x**p with p a literal bound to a name: a Python exponent, as PyTorch code writes it
    if hasattr(b, "jacli_literal") and isinstance(a, torch.Tensor):
        return a ** b.jacli_literal
    return a ** b


_BINARY: dict[str, Callable] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": _pow, "matmul": operator.matmul,
}


def _float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _floats(value):
    return [_floats(v) for v in value] if isinstance(value, list) else _float(value)


def forward(program: ir.Program, backend: TorchBackend, leaves: dict[str, torch.Tensor]):
    """The output tensor for the given leaf tensors."""
    return torch.as_tensor(backend.evaluator(program)(leaves))


def jacobian(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
             wrt: list[str], impl: str = "af_rev") -> torch.Tensor:
    """J as an (m, n) tensor: m output elements, n = total elements of the ``wrt`` variables,
    both flattened row-major, variables in ``wrt`` order. The function is taken of one flat
    input, so J comes back as one block. ``impl`` (chosen by ``structure.choose_mode`` from
    bench/ measurements):

    * ``af_rev`` / ``af_fwd``: ``torch.autograd.functional.jacobian(vectorize=True)``, reverse
      or forward; 24 ms first call, fastest on scalar systems of every shape;
    * ``vjp_vmap``: ``vmap`` of ``torch.func.vjp``'s pullback over the rows of I, for tensor
      programs with n >= m: ``torch.func.jacrev``'s own method without its wrappers (equal at
      1024², 10–20% faster below 256² in bench/); its first call imports torch._dynamo, ~0.7 s;
    * ``jvp_vmap``: ``vmap`` of ``torch.func.jvp`` over the columns of I, for large tensor
      programs with n < m (matches jacfwd without importing torch._dynamo).
    """
    try:  # not a context manager: this wraps calls of ~0.2 ms, where each µs shows
        return _jacobian(program, backend, point, wrt, impl)
    except (MemoryError, RuntimeError) as e:
        limit = _allocation_error(e, "the numeric Jacobian")
        if limit is None:
            raise
        raise limit from None


def _jacobian(program, backend, point, wrt, impl):
    f, flat = _flat_function(program, backend, point, wrt)
    if impl in ("af_rev", "af_fwd"):
        strategy = "forward-mode" if impl == "af_fwd" else "reverse-mode"
        return torch.autograd.functional.jacobian(f, flat, vectorize=True, strategy=strategy)
    from torch import func  # only for tensor programs: vjp's pullback imports torch._dynamo

    if impl == "vjp_vmap":
        y, pullback = func.vjp(f, flat)
        basis = torch.eye(y.numel(), dtype=y.dtype, device=y.device)
        return func.vmap(pullback)(basis)[0]
    basis = torch.eye(flat.numel(), dtype=flat.dtype, device=flat.device)
    return func.vmap(lambda u: func.jvp(f, (flat,), (u,))[1])(basis).T


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
        y.backward(v.reshape(y.shape))
    grads = {k: (t.grad if t.grad is not None else torch.zeros_like(t)) for k, t in leaves.items()}
    untouched = [k for k, t in leaves.items() if t.grad is None]
    return y.detach(), {"grads": grads, "untouched": untouched}


def torch_repr(t: torch.Tensor) -> str:
    """What ``print(x.grad)`` shows, without the dtype suffix jacli's float64 would add."""
    text = repr(t.detach().cpu())
    return text.replace(", dtype=torch.float64", "").replace(", dtype=torch.float32", "")


def _flat_function(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
                   wrt: list[str]):
    """f(flat) where ``flat`` concatenates the ``wrt`` variables: the n inputs as one vector.
    f binds them over ``point``'s own entries (a merge overrides them: nothing to filter)."""
    run = backend.evaluator(program)
    tensors = [point[w] for w in wrt]

    if all(t.dim() == 0 for t in tensors):  # a scalar system: one vector and one unbind,
        def f(flat: torch.Tensor) -> torch.Tensor:  # not n reshape views, n splits and a cat
            return _flat(run({**point, **dict(zip(wrt, flat.unbind(0)))}))

        names, vector = getattr(point, "scalars", ((), None))
        return f, vector if vector is not None and names == tuple(wrt) else torch.stack(tensors)

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


def _flat(y: torch.Tensor) -> torch.Tensor:
    # each op costs a few µs under vmap: skip the no-op reshape (small J runs ~200 µs)
    return y if y.dim() == 1 else y.reshape(-1)


def jvp(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
        wrt: list[str], u: torch.Tensor) -> torch.Tensor:
    """J u by forward mode (dual numbers): one pass, no Jacobian formed. ``u`` is flat (n,).

    ``torch.autograd.forward_ad`` rather than ``torch.func.jvp``: the latter's first call
    imports ``torch._dynamo`` (0.6–0.9 s here)."""
    import torch.autograd.forward_ad as fwAD

    f, flat = _flat_function(program, backend, point, wrt)
    with fwAD.dual_level():
        y = f(fwAD.make_dual(flat, u.reshape(flat.shape)))
        tangent = fwAD.unpack_dual(y).tangent
    return torch.zeros_like(y.detach()) if tangent is None else tangent.detach()


def hessian(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
            wrt: list[str]) -> torch.Tensor:
    """H (n, n) of a scalar output over the flattened ``wrt`` inputs."""
    f, flat = _flat_function(program, backend, point, wrt)
    return torch.autograd.functional.hessian(lambda x: f(x).sum(), flat, vectorize=True)


def hvp(program: ir.Program, backend: TorchBackend, point: dict[str, torch.Tensor],
        wrt: list[str], v: torch.Tensor) -> torch.Tensor:
    """H v without forming H: reverse-over-reverse, two backward passes."""
    f, flat = _flat_function(program, backend, point, wrt)
    x = flat.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    if not g.requires_grad:  # the gradient is constant: H = 0
        return torch.zeros_like(flat)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v.reshape(g.shape), allow_unused=True)
    return torch.zeros_like(flat) if hv is None else hv


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
