"""The numbers need no SymPy: the function table, the numeric stage, the batched core and
the autograd calls import none, so a process that only computes numbers (a one-shot
command's forked child, the ``--at-file`` stream's parent, ``--symbolic never``) never pays
SymPy's import (``hessian`` excepted: ``torch.autograd.functional.hessian`` imports it
itself). torch's own ``autograd.grad``/``backward`` import it on a given gradient
(their shape check), so jacli calls the same engine entry (``backends.engine``): the same
numbers, bit for bit, checked here against the public calls.

The import checks run in fresh interpreters (pytest has SymPy loaded) with SymPy's import
refused: a test fails if any step needs it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from jacli.backends import engine

NO_SYMPY = """
import json, sys
class NoSympy:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "sympy":
            raise ImportError("SymPy imported on the numeric side")
sys.meta_path.insert(0, NoSympy())
"""

NUMERIC = NO_SYMPY + """
from jacli.analysis.numeric import numeric
from jacli.analysis.prepare import prepare
from jacli.request.problem import build
out = {}
for name, (command, source, at, extra) in json.loads(sys.argv[1]).items():
    problem = build(command, source, at=at, symbolic="never", **extra)
    num = numeric(problem, prepare(problem))
    out[name] = {"J": num.J.tolist() if num.J is not None else None, "vjp": num.vjp,
                 "jvp": num.jvp}
print(json.dumps(out))
print("sympy" in sys.modules)
"""

CASES = {
    "jacobian": ("jacobian", "x1**2*x2+sin(x1), tanh(x1*x2)", "1,2", {}),
    "vjp": ("vjp", "x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", "1,2,3", {"v": "1,1,1"}),
    "tensor vjp": ("vjp", "torch.tanh(W @ x + b)", "W=[[1,2],[3,4]],x=[0.5,-1],b=[0.1,0.2]",
                   {"v": "[1,-1]"}),
    "jvp": ("jvp", "x1*x2, exp(x1)", "1,2", {"u": "1,0"}),
}


def _run(script: str, *args: str) -> list[str]:
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_the_numeric_stage_imports_no_sympy_and_gives_pytorchs_numbers():
    out, loaded = _run(NUMERIC, json.dumps(CASES))
    assert loaded == "False"
    got = json.loads(out)
    t = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)  # noqa: E731
    x1, x2 = t(1.0), t(2.0)
    t = lambda *v: torch.tensor(v if len(v) > 1 else v[0], dtype=torch.float64,  # noqa: E731
                                requires_grad=True)
    f = lambda a, b: torch.stack([a**2 * b + torch.sin(a), torch.tanh(a * b)])  # noqa: E731
    J = torch.autograd.functional.jacobian(f, (x1.detach(), x2.detach()))
    assert got["jacobian"]["J"] == torch.stack(J, 1).tolist()
    assert got["vjp"]["vjp"] == [5.0, 18.0, 34.0]  # the seeds' vᵀJ
    W, x, b = t([1.0, 2.0], [3.0, 4.0]), t(0.5, -1.0), t(0.1, 0.2)
    torch.tanh(W @ x + b).backward(torch.tensor([1.0, -1.0], dtype=torch.float64))
    assert got["tensor vjp"]["vjp"] == W.grad.flatten().tolist() + b.grad.tolist() + \
        x.grad.tolist()  # the inputs in name order
    assert got["jvp"]["jvp"] == [2.0, 2.718281828459045]


BATCHED = NO_SYMPY + """
import torch
from jacli import hooks
core = hooks.batched_core("x1**2+2*x2+x3, x1+x2**3+x3**2, 2*x1+x2**2+x3**3", ["1,2,3"],
                          v="1,-1,2")
X = {f"x{k + 1}": torch.linspace(-1, 1, 7, dtype=torch.float64) + k for k in range(3)}
for command in ("jacobian", "vjp"):
    out = core.run(X, command, core.v if command == "vjp" else None, 4)()
    print(json.dumps([o.tolist() for o in out]))
print("sympy" in sys.modules)
"""


def test_the_batched_core_imports_no_sympy():
    J, vjp, loaded = _run(BATCHED)
    assert loaded == "False"
    X = torch.stack([torch.linspace(-1, 1, 7, dtype=torch.float64) + k for k in range(3)], 1)
    f = lambda x: torch.stack([x[0]**2 + 2*x[1] + x[2], x[0] + x[1]**3 + x[2]**2,  # noqa: E731
                               2*x[0] + x[1]**2 + x[2]**3])
    want = torch.func.vmap(torch.func.jacrev(f))(X)
    assert torch.cat([torch.tensor(c, dtype=torch.float64) for c in json.loads(J)]).tolist() == want.tolist()
    v = torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64)
    assert torch.cat([torch.tensor(c, dtype=torch.float64) for c in json.loads(vjp)]).tolist() == (v @ want).tolist()


# -- backends.engine: the public calls' numbers, bit for bit --------------------------------

def _leaves(seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    return x, w, g


def _f(x, w):
    return torch.tanh(x @ w).exp() / (1 + (x**2).sum())


def _graph(seed: int):
    x, w, g = _leaves(seed)
    return x, w, _f(x, w), g


@pytest.mark.parametrize("seed", range(5))
def test_engine_grad_is_autograd_grad(seed):
    x, w, y, g = _graph(seed)
    basis = torch.randn(6, *y.shape, generator=g, dtype=torch.float64)
    for batched, cot in ((False, basis[0]), (True, basis)):
        ours = engine.grad((y,), (x, w), (cot,), retain_graph=True, batched=batched)
        theirs = torch.autograd.grad(y, (x, w), cot, retain_graph=True, is_grads_batched=batched)
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    z = torch.zeros(2, dtype=torch.float64, requires_grad=True)  # not in y's graph
    ours = engine.grad((y,), (x, z), (basis[0],), retain_graph=True, allow_unused=True,
                       materialize=True)
    theirs = torch.autograd.grad(y, (x, z), basis[0], retain_graph=True, allow_unused=True,
                                 materialize_grads=True)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))


@pytest.mark.parametrize("seed", range(3))
def test_engine_batched_grad_is_torchs_with_unused_inputs_and_two_outputs(seed):
    """The batched call's own vmap level (``engine._batched``): an input outside the graph
    passes through as None (or zeros), two outputs batch alike, and batches of unequal
    sizes get torch's own refusal."""
    x, w, y, g = _graph(seed)
    y2 = (x * 3).sin()
    z = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    b1, b2 = (torch.randn(4, *t.shape, generator=g, dtype=torch.float64) for t in (y, y2))
    for materialize in (False, True):
        ours = engine.grad((y, y2), (x, z, w), (b1, b2), retain_graph=True, batched=True,
                           allow_unused=True, materialize=materialize)
        theirs = torch.autograd.grad((y, y2), (x, z, w), (b1, b2), retain_graph=True,
                                     is_grads_batched=True, allow_unused=True,
                                     materialize_grads=materialize)
        assert len(ours) == len(theirs) == 3
        for a, b in zip(ours, theirs):
            assert (a is None and b is None) or torch.equal(a, b)
    assert ours[1].shape == theirs[1].shape == z.shape  # torch's zeros_like(input), unbatched
    with pytest.raises((RuntimeError, ValueError)):
        engine.grad((y, y2), (x,), (b1, b2[:3]), retain_graph=True, batched=True)


@pytest.mark.parametrize("seed", range(3))
def test_engine_backward_is_y_backward_and_accumulates(seed):
    (x, w, g), (x2, w2, _) = _leaves(seed), _leaves(seed)
    vs = [torch.randn(3, 5, generator=g, dtype=torch.float64) for _ in range(2)]
    for v in vs:  # twice, each on a fresh graph: .grad accumulates in both
        engine.backward((_f(x, w),), (v,))
        _f(x2, w2).backward(v)
    assert torch.equal(x.grad, x2.grad) and torch.equal(w.grad, w2.grad)
    assert not torch.equal(x.grad, torch.zeros_like(x))


def test_engine_falls_back_to_torchs_own_checks():
    """A gradient of the wrong shape goes through the public call: torch's own refusal."""
    x, w, y, _ = _graph(0)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        engine.grad((y,), (x,), (torch.ones(2, dtype=torch.float64),))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        engine.backward((y,), (torch.ones(2, dtype=torch.float64),))


@pytest.mark.parametrize("which", range(4))
def test_engine_jacfwd_is_autograd_functionals_forward_mode(which):
    """``engine.jacfwd``: ``AF.jacobian(vectorize=True, strategy="forward-mode")``'s J, bit
    for bit — scalar systems, a tensor program, an output that ignores its input."""
    g = torch.Generator().manual_seed(which)
    W = torch.randn(4, 3, generator=g, dtype=torch.float64)
    f = [lambda x: torch.stack([x[0] ** 2 * x[1], x[1].sin() * x[2], x[2].exp() / x[0]]),
         lambda x: torch.tanh(W @ x).exp(),
         lambda x: (x.outer(x) * 0.5).cos(),
         lambda x: W.sum(1) * 2][which]
    x = torch.randn(3, generator=g, dtype=torch.float64)
    kept: list = []
    ours = engine.jacfwd(f, x, kept)
    assert torch.equal(kept[0], f(x))  # y from the same pass: f's own bits
    scalar = engine.jacfwd(torch.sin, x[0])  # 0-d in, 0-d out: a 0-d J, as torch's
    assert torch.equal(scalar, torch.autograd.functional.jacobian(
        torch.sin, x[0], vectorize=True, strategy="forward-mode"))
    theirs = torch.autograd.functional.jacobian(f, x, vectorize=True, strategy="forward-mode")
    assert ours.shape == theirs.shape and torch.equal(ours, theirs)
