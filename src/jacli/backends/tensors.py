"""The torch backend: the language's operations on tensors of one dtype on one device.

Values are tensors; constants are cached per backend; subscript assignment is an out-of-place
``index_put``, so functional transforms (``torch.func``) still work on lowered programs. What
is computed *with* a program (J, ``y.backward(v)``, H) lives in ``analysis.autograd``; this
module knows only single operations and never imports the interpreter.
"""

from __future__ import annotations

import math
import operator
from array import array
from fractions import Fraction
from functools import partial, reduce
from typing import Callable

import torch

from jacli.backends import sizes
from jacli.bounds import DEFAULT_LIMITS
from jacli.errors import DeviceError, UsageError
from jacli.request.lazy import Numbers
from jacli.request.problem import check_device
from jacli.language import ir

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N``; a clear error when this machine has no such device."""
    check_device(name)  # the syntax, as the request builder checks it
    if name == "cpu":
        return torch.device("cpu")
    _, _, index = name.partition(":")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise DeviceError(f"--device {name}: no CUDA device is available on this machine",
                          hint="use --device cpu (the default)", where="--device")
    if index and int(index) >= count:
        raise DeviceError(f"--device {name}: no CUDA device {int(index)} on this machine "
                          f"(it has {count}: cuda:0 to cuda:{count - 1})",
                          hint="use --device cuda (the first one)", where="--device")
    return torch.device(name)


_KINDS: dict[tuple[str, str], tuple] = {}  # a CPU backend's (dtype, device, key, cpu64)


def _kind(dtype: str, device: str) -> tuple:
    """A backend's dtype, device, share key and whether it is float64 on the CPU, checked;
    kept for the CPU (a batch request makes a backend: 1.4 → 0.5 µs). A CUDA device is
    asked for again each time (its refusal names what this machine has)."""
    if dtype not in DTYPES:
        raise UsageError(f"--dtype {dtype!r} is not supported", hint="float64 or float32",
                         where="--dtype")
    dt, dev = DTYPES[dtype], resolve_device(device)
    kind = (dt, dev, ("torch", str(dt), str(dev)), dt == torch.float64 and dev.type == "cpu")
    if dev.type == "cpu":
        _KINDS[dtype, device] = kind
    return kind


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
        kind = _KINDS.get((dtype, device)) or _kind(dtype, device)
        # share_key: backends with equal keys compute alike and keep nothing per request:
        # lowerings are shared across requests (``runtime.interpret.compiled``)
        self.dtype, self.device, self.share_key, self._cpu64 = kind
        self._constants: dict[tuple[int, int], torch.Tensor] = {}
        # programs lowered for this backend, by id (kept with the program so the id stays
        # unique): filled by ``runtime.interpret.compiled``, never read here
        self.lowered: dict[int, tuple[ir.Program, Callable]] = {}

    def point(self, values: dict) -> Point:
        """Exact values by name (``Fraction`` or nested lists of them) as one ``Point``: the
        scalar variables in one ``torch.tensor`` call, as views of one vector."""
        if values and all(type(v) is Numbers and v.shape == () for v in values.values()):
            return self._scalars(values)  # (a small request's point: a third of the time)
        names = tuple(k for k, v in values.items()
                      if not isinstance(v, list) and getattr(v, "shape", ()) == ())
        vector = self.tensor([values[k] for k in names]) if names else None
        views = dict(zip(names, vector.unbind(0))) if names else {}
        point = Point((k, views[k] if k in views else self.tensor(v)) for k, v in values.items())
        point.scalars = (names, vector)
        return point

    def _scalars(self, values: dict) -> Point:
        """``point`` of scalar ``Numbers`` only: their floats in one vector, and its views."""
        names, floats = tuple(values), [float(v.data) for v in values.values()]
        if self._cpu64:  # the floats' own bytes (a third of ``torch.tensor``'s time)
            vector = torch.frombuffer(array("d", floats), dtype=torch.float64)
        else:
            vector = torch.tensor(floats, dtype=self.dtype, device=self.device)
        point = Point(zip(names, vector.unbind(0)))
        point.scalars = (names, vector)
        return point

    def tensor(self, value) -> torch.Tensor:
        """Exact nested ``Fraction`` lists to a tensor (rounded once, to nearest); ``Numbers``
        (read fast) from their floats, never the caller's own tensor object."""
        if isinstance(value, Numbers):
            return torch.as_tensor(value.data, dtype=self.dtype, device=self.device).detach()
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
        meaning = partial(row.torch, self)
        return _bounded(meaning, row.name) if row.name in GROWS else meaning

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
        item = torch.as_tensor(item, dtype=value.dtype)
        while item.dim() > len(target_shape) and item.shape[0] == 1:  # torch drops leading 1s
            item = item[0]
        item = item.expand(target_shape).reshape(-1)
        return value.reshape(-1).index_put((positions,), item).view(value.shape)

    def stop_gradient(self, value) -> torch.Tensor:
        return value.detach()

    def shape(self, value) -> tuple[int, ...]:
        return tuple(value.shape)


def _pow(a, b):
    # x**p with p a literal bound to a name: a Python exponent, as PyTorch code writes it
    if hasattr(b, "jacli_literal") and isinstance(a, torch.Tensor):
        b = b.jacli_literal
    if isinstance(a, torch.Tensor) and isinstance(b, (torch.Tensor, int, float)):
        # the op ``a ** b`` dispatches to, without ``Tensor.__pow__``'s Python wrapper
        return torch.pow(a, b)
    return a ** b


_BINARY: dict[str, Callable] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": _pow, "matmul": operator.matmul,
    # comparisons: only ever the condition of where/masked_fill (language.calls.condition)
    "gt": operator.gt, "lt": operator.lt, "ge": operator.ge, "le": operator.le,
    "eq": operator.eq, "ne": operator.ne,
}


def _float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _floats(value):
    return [_floats(v) for v in value] if isinstance(value, list) else _float(value)


# functions whose result can hold far more elements than their inputs: measured before
# torch allocates it, where the arguments tell (``sizes.check_call``), and after
GROWS = {"pad", "repeat", "tile", "expand", "broadcast_to", "kron", "outer", "einsum",
         "matmul", "mm", "bmm"}
_METHODS = {"repeat", "tile", "expand", "broadcast_to"}  # x.f(*sizes): x is the owner


def _bounded(meaning: Callable, name: str) -> Callable:
    """``meaning``, refused (``LimitError``) when its result would pass the element limit."""
    limit = DEFAULT_LIMITS.tensor_elements

    def call(*args, **kwargs):
        owner = args[0] if name in _METHODS and args else None
        sizes.check_call(name, owner, list(args[1:] if owner is not None else args), kwargs,
                         limit, None)
        out = meaning(*args, **kwargs)
        sizes.check_result(out, limit, None)
        return out

    return call
