"""PyTorch's vocabulary and semantics: each form below was refused or missing before; now it
gives PyTorch's own answer (value and Jacobian, float64, computed here by real torch code)
and SymPy agrees with it (the run's check), or it is refused with one clear line.

Every program reads one variable ``x`` (a flat vector, reshaped inside the program), so the
torch side is a plain function of one tensor.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

AT = [1.5, -2.0, 3.0, 4.0, 0.5, -6.0]
AT3 = [0.3, -1.2, 2.1]


def torch_answer(f, at):
    x = torch.tensor(at, dtype=torch.float64)
    value = f(x).detach()
    jac = torch.autograd.functional.jacobian(f, x).reshape(value.numel(), -1)
    return list(value.shape), value.reshape(-1).tolist(), jac.tolist()


def assert_torch(cli_json, program, f, at):
    """jacli's value, J and shape are PyTorch's, and SymPy's exact answer agrees."""
    d = cli_json("jacobian", program, "--at", f"x={at}")
    shape, value, jac = torch_answer(f, at)
    assert d["output_shape"] == shape
    assert d["value"]["numeric"] == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert d["jacobian"]["numeric"] == [pytest.approx(r, rel=1e-12, abs=1e-12) for r in jac]
    assert d["check"]["agree"], d["check"]


def m(x):
    return x.view(2, 3)


# -- item 1: valid PyTorch that was refused -------------------------------------------------
REFUSED_BEFORE = [
    ("x.view(2, 3).sum(dim=(0, 1))", lambda x: m(x).sum(dim=(0, 1)), AT),
    ("x.view(2, 3).sum(dim=(-1, 0), keepdim=True)", lambda x: m(x).sum((-1, 0), keepdim=True), AT),
    ("x.view(2, 3).mean((0, 1))", lambda x: m(x).mean((0, 1)), AT),
    ("x.view(2, 3).amax(dim=(0, 1))", lambda x: m(x).amax(dim=(0, 1)), AT),
    ("x.view(2, 3).prod(-1, keepdim=True)", lambda x: m(x).prod(-1, keepdim=True), AT),
    ("x[0].sum(0)", lambda x: x[0].sum(0), AT),
    ("x[1].mean(-1, keepdim=True)", lambda x: x[1].mean(-1, keepdim=True), AT),
    ("x.view(2, 3).norm(dim=1)", lambda x: m(x).norm(dim=1), AT),
    ("x.view(2, 3).norm(p=1, dim=0, keepdim=True)", lambda x: m(x).norm(p=1, dim=0, keepdim=True),
     AT),
    ("x.view(2, 3).norm()", lambda x: m(x).norm(), AT),
    ("x.view(1, 2, 3).squeeze(0)", lambda x: x.view(1, 2, 3).squeeze(0), AT),
    ("x.view(2, 1, 3).squeeze(0)", lambda x: x.view(2, 1, 3).squeeze(0), AT),
    ("x.view(1, 2, 1, 3).squeeze((0, 2))", lambda x: x.view(1, 2, 1, 3).squeeze((0, 2)), AT),
    ("x.view(2, 1, 3).flatten(1)", lambda x: x.view(2, 1, 3).flatten(1), AT),
    ("x.view(2, 3, 1).flatten(0, 1)", lambda x: x.view(2, 3, 1).flatten(0, 1), AT),
    ("x.view(2, 3)[None]", lambda x: m(x)[None], AT),
    ("x.view(2, 3)[..., 1]", lambda x: m(x)[..., 1], AT),
    ("x.view(2, 3)[None, :, None, 0]", lambda x: m(x)[None, :, None, 0], AT),
    ("x.max()", lambda x: x.max(), AT),
    ("F.softplus(x, beta=2)", lambda x: F.softplus(x, beta=2), AT),
    ("F.softplus(x * 10, beta=2, threshold=5)", lambda x: F.softplus(x * 10, beta=2, threshold=5),
     AT),
    ("torch.ones_like(x) * x", lambda x: torch.ones_like(x) * x, AT),
    ("torch.full_like(x, 0.5) * x", lambda x: torch.full_like(x, 0.5) * x, AT),
    ("torch.zeros_like(x) + x**2", lambda x: torch.zeros_like(x) + x**2, AT),
    # broadcasting in subscript assignment: a (1, 3) value into (2, 3) and into (3,)
    ("b = torch.zeros(2, 3); b[:] = x[0:3].view(1, 3); b", lambda x: write(x, slice(None)), AT),
    ("b = torch.zeros(2, 3); b[0] = x[0:3].view(1, 3); b", lambda x: write(x, 0), AT),
]


def write(x, index):
    """PyTorch's own ``b[index] = x[0:3].view(1, 3)`` into zeros."""
    b = torch.zeros(2, 3, dtype=x.dtype)
    b[index] = x[0:3].view(1, 3)
    return b


@pytest.mark.parametrize("program, f, at", REFUSED_BEFORE, ids=[c[0] for c in REFUSED_BEFORE])
def test_once_refused_now_matches_torch(cli_json, program, f, at):
    assert_torch(cli_json, program, f, at)


# -- reductions returning (values, indices) ---------------------------------------------------
@pytest.mark.parametrize("program, f, at", [
    ("torch.max(x.view(2, 3), 0).values", lambda x: torch.max(m(x), 0).values, AT),
    ("x.view(2, 3).max(dim=1)[0]", lambda x: m(x).max(dim=1)[0], AT),
    ("torch.min(x.view(2, 3), 1, keepdim=True).values",
     lambda x: torch.min(m(x), 1, keepdim=True).values, AT),
    # a tie: PyTorch gives the whole gradient to the index it returns (the first)
    ("torch.max(x, 0).values", lambda x: torch.max(x, 0).values, [1.0, 3.0, 3.0]),
    ("x.view(2, 2).min(-1)[0]", lambda x: x.view(2, 2).min(-1)[0], [2.0, 2.0, 1.0, 1.0]),
])
def test_values_of_max_with_a_dim(cli_json, program, f, at):
    assert_torch(cli_json, program, f, at)


@pytest.mark.parametrize("program, words", [
    ("torch.max(x, 0)", ["(values, indices)", ".values"]),
    ("torch.max(x, 0)[1]", ["indices", "no gradient"]),
    ("x.chunk(2) * 2", ["returns a tuple", "[0]"]),
    ("x * 1j", ["complex numbers are not supported"]),
    ("torch.complex(x, x)", ["torch.complex", "complex numbers"]),
    ("x.real", ["complex numbers are not supported"]),
    ("torch.where(x, x, 0)", ["comparison"]),
    ("torch.linalg.norm(x.view(2, 3), 2)", ["matrix norms"]),
])
def test_refused_with_one_clear_line(cli, program, words):
    r = cli("jacobian", program, "--at", f"x={AT}")
    assert r.code == 2, (r.code, r.err)
    for word in words:
        assert word in r.err, r.err
    assert "Traceback" not in r.err


# -- item 2: the vocabulary, with keywords and dims -------------------------------------------
VOCABULARY = [
    ("expm1(x) + log1p(x * x) + exp2(x)", lambda x: x.expm1() + (x * x).log1p() + x.exp2()),
    ("erf(x) * erfc(x) + erfinv(x / 7)", lambda x: x.erf() * x.erfc() + (x / 7).erfinv()),
    ("torch.sinc(x) + sinc(x * 0)", lambda x: torch.sinc(x) + torch.sinc(x * 0)),
    ("floor(x) + ceil(x) * round(x) + trunc(x) + frac(x) + sign(x) * x",
     lambda x: x.floor() + x.ceil() * x.round() + x.trunc() + x.frac() + x.sign() * x),
    ("reciprocal(x) + rsqrt(x * x)", lambda x: x.reciprocal() + (x * x).rsqrt()),
    ("x.clamp(-1, 2) + torch.clip(x, min=0) + x.clamp(max=0.5)",
     lambda x: x.clamp(-1, 2) + torch.clip(x, min=0) + x.clamp(max=0.5)),
    ("torch.atan2(x, x * x + 1) + torch.hypot(x, 2 * x)",
     lambda x: torch.atan2(x, x * x + 1) + torch.hypot(x, 2 * x)),
    ("torch.lerp(x, x * x, 0.3)", lambda x: torch.lerp(x, x * x, 0.3)),
    ("torch.where(x > 0, x * x, -x)", lambda x: torch.where(x > 0, x * x, -x)),
    ("torch.where(x <= 1.5, x, 0)", lambda x: torch.where(x <= 1.5, x, 0.0)),
    ("F.leaky_relu(x, 0.2) + F.leaky_relu(x, negative_slope=3)",
     lambda x: F.leaky_relu(x, 0.2) + F.leaky_relu(x, negative_slope=3)),
    ("F.elu(x, alpha=2) + F.selu(x) + F.celu(x, 0.5)",
     lambda x: F.elu(x, alpha=2) + F.selu(x) + F.celu(x, 0.5)),
    ("F.gelu(x) + F.gelu(x, approximate='tanh') + F.silu(x) + F.mish(x)",
     lambda x: F.gelu(x) + F.gelu(x, approximate="tanh") + F.silu(x) + F.mish(x)),
    ("F.hardtanh(x) + F.hardtanh(x, -3, 2) + F.relu6(x * 2) + F.hardswish(x)",
     lambda x: F.hardtanh(x) + F.hardtanh(x, -3, 2) + F.relu6(x * 2) + F.hardswish(x)),
    ("F.softsign(x) + F.logsigmoid(x) + F.tanhshrink(x)",
     lambda x: F.softsign(x) + F.logsigmoid(x) + F.tanhshrink(x)),
    ("F.softmax(x.view(2, 3), dim=1)", lambda x: F.softmax(m(x), dim=1)),
    ("F.softmax(x.view(2, 3), -2) + torch.log_softmax(x.view(2, 3), 1)",
     lambda x: F.softmax(m(x), -2) + torch.log_softmax(m(x), 1)),
    ("F.softmin(x, 0)", lambda x: F.softmin(x, 0)),
    ("F.normalize(x.view(2, 3)) + F.normalize(x.view(2, 3), p=1, dim=0)",
     lambda x: F.normalize(m(x)) + F.normalize(m(x), p=1, dim=0)),
    ("torch.logsumexp(x.view(2, 3), 1)", lambda x: torch.logsumexp(m(x), 1)),
    ("x.view(2, 3).var(1) + x.view(2, 3).std(dim=1, correction=0)",
     lambda x: m(x).var(1) + m(x).std(dim=1, correction=0)),
    ("x.var(unbiased=False)", lambda x: x.var(unbiased=False)),
    ("x.view(2, 3).cumsum(1) * torch.cumprod(x.view(2, 3), dim=0)",
     lambda x: m(x).cumsum(1) * torch.cumprod(m(x), dim=0)),
    ("torch.linalg.vector_norm(x.view(2, 3), ord=3, dim=1)",
     lambda x: torch.linalg.vector_norm(m(x), ord=3, dim=1)),
    ("torch.linalg.norm(x.view(2, 3)) + torch.linalg.norm(x.view(2, 3), dim=0).sum()",
     lambda x: torch.linalg.norm(m(x)) + torch.linalg.norm(m(x), dim=0).sum()),
    ("torch.outer(x[0:3], x[3:6])", lambda x: torch.outer(x[0:3], x[3:6])),
    ("torch.einsum('ij,j->i', x.view(2, 3), x[0:3])",
     lambda x: torch.einsum("ij,j->i", m(x), x[0:3])),
    ("torch.einsum('ij->ji', x.view(2, 3))", lambda x: torch.einsum("ij->ji", m(x))),
    ("torch.bmm(x.view(1, 2, 3), x.view(1, 3, 2))",
     lambda x: torch.bmm(x.view(1, 2, 3), x.view(1, 3, 2))),
    ("torch.trace(x[0:4].view(2, 2)) + torch.det(x[0:4].view(2, 2))",
     lambda x: torch.trace(x[0:4].view(2, 2)) + torch.det(x[0:4].view(2, 2))),
    ("torch.inverse(x[0:4].view(2, 2))", lambda x: torch.inverse(x[0:4].view(2, 2))),
    ("torch.linalg.solve(x[0:4].view(2, 2), x[4:6])",
     lambda x: torch.linalg.solve(x[0:4].view(2, 2), x[4:6])),
    ("torch.diag(x[0:3]) + torch.diag(x[0:2], 1)",
     lambda x: torch.diag(x[0:3]) + torch.diag(x[0:2], 1)),
    ("x[0:4].view(2, 2).diagonal() * torch.tril(x[0:4].view(2, 2)).sum(0)",
     lambda x: x[0:4].view(2, 2).diagonal() * torch.tril(x[0:4].view(2, 2)).sum(0)),
    ("torch.triu(x.view(2, 3), diagonal=1)", lambda x: torch.triu(m(x), diagonal=1)),
    ("torch.cross(x[0:3], x[3:6]) + torch.linalg.cross(x[0:3], x[3:6] * 2)",
     lambda x: torch.linalg.cross(x[0:3], x[3:6]) + torch.linalg.cross(x[0:3], x[3:6] * 2)),
    ("torch.kron(x[0:2], x[2:5])", lambda x: torch.kron(x[0:2], x[2:5])),
    ("x.view(1, 2, 3).permute(2, 0, 1)", lambda x: x.view(1, 2, 3).permute(2, 0, 1)),
    ("x[0:3].view(3, 1).expand(-1, 2) * x[0:2]",
     lambda x: x[0:3].view(3, 1).expand(-1, 2) * x[0:2]),
    ("x[0:2].repeat(2, 2)", lambda x: x[0:2].repeat(2, 2)),
    ("torch.flip(x.view(2, 3), [0]) * x.view(2, 3).flip(0, 1)",
     lambda x: torch.flip(m(x), [0]) * m(x).flip(0, 1)),
    ("torch.roll(x.view(2, 3), shifts=1, dims=1) + x.roll(2).view(2, 3)",
     lambda x: torch.roll(m(x), shifts=1, dims=1) + x.roll(2).view(2, 3)),
    ("x.view(2, 3).narrow(1, 1, 2)", lambda x: m(x).narrow(1, 1, 2)),
    ("x.chunk(4)[1] * torch.split(x, [2, 4])[1][0:2]",
     lambda x: x.chunk(4)[1] * torch.split(x, [2, 4])[1][0:2]),
    ("x.view(2, 3).unbind(1)[2]", lambda x: m(x).unbind(1)[2]),
    ("torch.gather(x.view(2, 3), 1, torch.tensor([[0, 0], [2, 1]]))",
     lambda x: torch.gather(m(x), 1, torch.tensor([[0, 0], [2, 1]]))),
    ("torch.index_select(x.view(2, 3), 1, torch.tensor([2, 0]))",
     lambda x: torch.index_select(m(x), 1, torch.tensor([2, 0]))),
    ("x.masked_fill(x < 0, 0.5)", lambda x: x.masked_fill(x < 0, 0.5)),
    ("F.pad(x.view(2, 3), (1, 0, 0, 1), value=2.5)",
     lambda x: F.pad(m(x), (1, 0, 0, 1), value=2.5)),
    ("F.mse_loss(x[0:3], x[3:6]) + F.l1_loss(x[0:3], x[3:6], reduction='sum')",
     lambda x: F.mse_loss(x[0:3], x[3:6]) + F.l1_loss(x[0:3], x[3:6], reduction="sum")),
    ("F.mse_loss(x[0:3], x[3:6], reduction='none')",
     lambda x: F.mse_loss(x[0:3], x[3:6], reduction="none")),
    ("F.smooth_l1_loss(x[0:3], x[3:6], beta=0.5) + F.huber_loss(x[0:3], x[3:6], delta=2)",
     lambda x: F.smooth_l1_loss(x[0:3], x[3:6], beta=0.5) + F.huber_loss(x[0:3], x[3:6],
                                                                            delta=2)),
    ("F.cross_entropy(x.view(2, 3), [0, 2])",
     lambda x: F.cross_entropy(m(x), torch.tensor([0, 2]))),
    ("F.cross_entropy(x.view(2, 3), torch.tensor([1, 2]), reduction='sum')",
     lambda x: F.cross_entropy(m(x), torch.tensor([1, 2]), reduction="sum")),
    ("F.cross_entropy(x.view(2, 3), torch.softmax(x.view(2, 3) * 2, 1))",
     lambda x: F.cross_entropy(m(x), torch.softmax(m(x) * 2, 1))),
    ("F.nll_loss(F.log_softmax(x.view(2, 3), dim=1), [2, 0])",
     lambda x: F.nll_loss(F.log_softmax(m(x), dim=1), torch.tensor([2, 0]))),
    ("F.binary_cross_entropy(torch.sigmoid(x[0:3]), torch.sigmoid(x[3:6]))",
     lambda x: F.binary_cross_entropy(torch.sigmoid(x[0:3]), torch.sigmoid(x[3:6]))),
    ("F.binary_cross_entropy_with_logits(x[0:3], torch.sigmoid(x[3:6]))",
     lambda x: F.binary_cross_entropy_with_logits(x[0:3], torch.sigmoid(x[3:6]))),
    ("F.kl_div(F.log_softmax(x[0:3], 0), F.softmax(x[3:6], 0), reduction='batchmean')",
     lambda x: F.kl_div(F.log_softmax(x[0:3], 0), F.softmax(x[3:6], 0),
                        reduction="batchmean")),
    ("F.cosine_similarity(x.view(2, 3), x.view(2, 3) ** 2)",
     lambda x: F.cosine_similarity(m(x), m(x) ** 2)),
]


@pytest.mark.parametrize("program, f", VOCABULARY, ids=[c[0] for c in VOCABULARY])
def test_vocabulary_matches_torch(cli_json, program, f):
    assert_torch(cli_json, program, f, AT)


# -- PyTorch's conventions at kinks ----------------------------------------------------------
@pytest.mark.parametrize("program, f, at", [
    ("F.leaky_relu(x, 0.2)", lambda x: F.leaky_relu(x, 0.2), [0.0, 1.0, -1.0]),
    ("F.elu(x, alpha=2)", lambda x: F.elu(x, alpha=2), [0.0, 1.0, -1.0]),
    ("x.clamp(-1, 1)", lambda x: x.clamp(-1, 1), [-1.0, 1.0, 0.0]),  # passes at the bounds
    ("F.hardtanh(x)", lambda x: F.hardtanh(x), [-1.0, 1.0, 0.0]),  # flat at the bounds
    ("F.hardswish(x)", lambda x: F.hardswish(x), [-3.0, 3.0, 0.0]),
    ("F.relu6(x)", lambda x: F.relu6(x), [0.0, 6.0, 3.0]),
    ("torch.sinc(x)", lambda x: torch.sinc(x), [0.0, 1.0, 0.5]),
    ("torch.round(x)", lambda x: torch.round(x), [0.5, 1.5, 2.5]),  # ties to even
    ("torch.where(x > 0, x, 0)", lambda x: torch.where(x > 0, x, 0.0), [0.0, 1.0, -1.0]),
    ("F.smooth_l1_loss(x, x * 0, reduction='none')",
     lambda x: F.smooth_l1_loss(x, x * 0, reduction="none"), [1.0, -1.0, 0.0]),
])
def test_conventions_at_kinks_are_torch(cli_json, program, f, at):
    assert_torch(cli_json, program, f, at)


def test_functions_lists_the_groups_and_keywords(cli):
    r = cli("functions")
    assert r.code == 0
    for heading in ("pointwise:", "activation:", "reduction:", "linear algebra:", "shape:",
                    "loss:", "constructor:"):
        assert heading in r.out
    for call in ("leaky_relu(x, negative_slope)", "gelu(x, approximate=)",
                 "mse_loss(x, y, reduction=)", "softmax(x, dim)", "where(condition, x, y)",
                 "masked_fill(x, condition, value)"):
        assert call in r.out, call
    assert len(r.out.splitlines()) > 140


@pytest.mark.parametrize("program", [
    "(F.leaky_relu(x, 0.2) * F.softplus(x, beta=2)).sum()",
    "F.cross_entropy(x.view(2, 3), [0, 2]) + F.mse_loss(x[0:3], x[3:6], reduction='sum')",
    "(torch.max(x.view(2, 3), 0).values * x.chunk(2)[1]).sum()",
    "(torch.where(x > 0, x * x, -x) + x.clamp(min=-1)).sum()",
    "(x[0:3].view(3, 1).expand(-1, 2) * torch.gather(x.view(2, 3), 1, [[0, 2]])).sum()",
    "torch.einsum('ij,j->i', x.view(2, 3), x[0:3]).sum() + x.view(2, 3).sum(dim=(0, 1))",
])
def test_emitted_script_spells_the_vocabulary_as_torch(cli, cli_json, tmp_path, program):
    """--emit torch writes each call with its keywords, indices and picks: the script, run
    by plain PyTorch, prints the gradient jacli computed."""
    import json
    import subprocess
    import sys

    emitted = cli("grad", program, "--at", f"x={AT}", "--emit", "torch")
    assert emitted.code == 0, emitted.err
    path = tmp_path / "emitted.py"
    path.write_text(emitted.out)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout.split("=", 1)[1])
    expected = cli_json("grad", program, "--at", f"x={AT}")["vjp"]["grad"]["x"]
    assert printed == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("program", [
    "a = x * 1\nr = a.narrow(0, 0, 2)\nr[0] = 5\na",
    "a = x.view(2, 3) * 1\nr = a.permute(1, 0)\nr[0, 0] = 5\na",
    "a = x.view(2, 3) * 1\nr = a.chunk(2)[0]\nr[0, 0] = 5\na",
    "a = x.view(2, 3) * 1\nr = a.unbind(0)[1]\nr[0] = 5\na",
    "a = x.view(3, 2)[0:2] * 1\nr = a.diagonal()\nr[0] = 5\na",
])
def test_a_write_into_a_new_view_changes_the_base_as_in_pytorch(cli, cli_json, program):
    """narrow, permute, chunk/split/unbind pieces and diagonal are views in PyTorch: a write
    into one changes the base. The straight-line language refuses it; the script machine runs
    it on PyTorch's real tensors, so value and J are PyTorch's."""
    from test_fidelity import as_function, assert_same

    f = as_function(program)
    try:
        f(torch.tensor(AT, dtype=torch.float64, requires_grad=True))
    except RuntimeError as e:  # chunk and unbind pieces: PyTorch refuses the write itself
        r = cli("jacobian", program, "--at", f"x={AT}")
        assert r.code == 2 and str(e).split(".")[0] in r.err and "line 3" in r.err, r.err
        return
    assert_same(cli_json, program, f, at=AT)
