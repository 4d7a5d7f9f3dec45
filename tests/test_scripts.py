"""Scripts (DESIGN §2): pasted PyTorch with functions, loops, branches, classes, nn layers,
optimisers, seeded random tensors and several gradient events, run through `jacli vjp -`.

The reference is real PyTorch: each test runs its own trusted script text with ``exec`` (the
test's code, never jacli's) and compares every leaf's ``.grad`` after every event, and the
values jacli reports, with what PyTorch left.
"""

from __future__ import annotations

import textwrap

import pytest
import torch

from corpus_harness import global_leaves

SCRIPTS = {
    "seed_s8_accumulation": """
        import torch
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y * y
        z.mean().backward()
        x.sum().backward()
    """,
    "zero_between": """
        import torch
        x = torch.arange(4.0, requires_grad=True)
        y = 2 * torch.dot(x, x)
        y.backward()
        x.grad.zero_()
        y = x.sum()
        y.backward()
    """,
    "def_loop_branch": """
        import torch
        def f(a, k=2, *, scale=1.0):
            out = a
            for i in range(k):
                out = out * a if i % 2 == 0 else out + a
            return scale * out.sum()
        x = torch.tensor([0.5, -1.5], requires_grad=True)
        y = f(x, k=3, scale=2.0)
        if y.item() > 0:
            y = y * 3
        else:
            y = -y
        y.backward()
    """,
    "while_norm": """
        import torch
        x = torch.tensor([0.3, -0.2, 0.1], requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
        y.backward(v)
    """,
    "seeded_random": """
        import torch
        torch.manual_seed(3)
        w = torch.randn(3, requires_grad=True)
        x = torch.rand(3)
        loss = (w * x).sum() ** 2
        loss.backward()
    """,
    "linear_mse_sgd": """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        X = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
        Y = torch.tensor([[1.0], [0.0]])
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(3):
            opt.zero_grad()
            loss = nn.MSELoss()(model(X), Y)
            loss.backward()
            opt.step()
    """,
    "module_class_cross_entropy": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        torch.manual_seed(1)
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(4, 5)
                self.fc2 = nn.Linear(5, 3)
            def forward(self, x):
                return self.fc2(torch.tanh(self.fc1(x)))
        net = Net()
        x = torch.randn(2, 4)
        loss = F.cross_entropy(net(x), torch.tensor([0, 2]))
        loss.backward()
    """,
    "autograd_grad_second_order": """
        import torch
        x = torch.tensor([1.5, -0.5], requires_grad=True)
        y = (x ** 3).sum()
        g, = torch.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
    """,
    "retain_graph_twice": """
        import torch
        x = torch.tensor([2.0], requires_grad=True)
        y = x * x
        y.backward(retain_graph=True)
        y.backward()
    """,
    "custom_function": """
        import torch
        class Cube(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t ** 3
            @staticmethod
            def backward(ctx, g):
                t, = ctx.saved_tensors
                return 3 * t ** 2 * g
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        Cube.apply(x).sum().backward()
    """,
    "hook_and_retain_grad": """
        import torch
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        (y ** 2).sum().backward()
    """,
    "lambda_comprehension_unpack": """
        import torch
        square = lambda t: t * t
        a = torch.tensor(1.5, requires_grad=True)
        b = torch.tensor(-2.0, requires_grad=True)
        parts = [square(p) for p in (a, b)]
        first, second = parts
        total = sum(parts) + first * second
        total.backward()
    """,
}


def torch_run(source: str) -> list[dict]:
    """Run ``source`` in real PyTorch; after each backward, every global leaf's .grad."""
    g: dict = {"__name__": "__main__"}
    snapshots: list[dict] = []
    original = torch.Tensor.backward

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        snapshots.append({name: None if t.grad is None else t.grad.clone()
                          for name, t in global_leaves(g).items()})

    torch.Tensor.backward = recording
    try:
        exec(compile(source, "<test>", "exec"), g)  # the test's own trusted script
    finally:
        torch.Tensor.backward = original
    snapshots.append({name: None if t.grad is None else t.grad.clone()
                      for name, t in global_leaves(g).items()})
    return snapshots


def _same(ref, got) -> bool:
    if ref is None:
        return got is None or not torch.tensor(got).any()
    return got is not None and torch.allclose(ref.double(), torch.tensor(got, dtype=torch.float64),
                                              rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_reproduces_every_event(cli_json, name):
    source = textwrap.dedent(SCRIPTS[name])
    ref = torch_run(source)
    out = cli_json("vjp", "-", stdin=source.encode())
    events = out["events"]
    backward_events = [e for e in events if e["kind"] == "backward"]
    assert len(backward_events) == len(ref) - 1
    for e, snap in zip(backward_events, ref):
        for leaf, g in snap.items():
            got = None if leaf in e["grad_none"] else e["grad"].get(leaf)
            assert _same(g, got), (name, e["line"], leaf, g, got)
    for leaf, g in ref[-1].items():  # when the script ended
        assert _same(g, out["grad_at_end"].get(leaf)), (leaf, g, out["grad_at_end"].get(leaf))


def test_seed_s8_reads_as_the_seed_writes_it(cli):
    """S8: the second backward adds 1 to every entry; the timeline shows before → after."""
    r = cli("vjp", "-", stdin=textwrap.dedent(SCRIPTS["seed_s8_accumulation"]).encode())
    assert r.code == 0, r.err
    assert "2 gradient events" in r.out
    assert "x.grad: None → [2.66667, 5.33333, 8]" in r.out
    assert "x.grad: [2.66667, 5.33333, 8] → [3.66667, 6.33333, 9]" in r.out


def test_the_replayed_event_has_formulas_and_agrees(cli_json):
    out = cli_json("vjp", "-", stdin=textwrap.dedent(SCRIPTS["def_loop_branch"]).encode())
    assert out["check"]["agree"] is True
    assert out["jacobian"]["symbolic"] is not None
    assert out["events"][-1]["replayed"] is True


def test_the_path_taken_is_said(cli_json):
    out = cli_json("vjp", "-", stdin=textwrap.dedent(SCRIPTS["while_norm"]).encode())
    assert any(n.startswith("while at line 5:") and "iterations" in n for n in out["notices"])


def test_random_tensors_are_pytorchs_and_the_seed_is_recorded(cli_json):
    source = "import torch\nx = torch.rand(3, requires_grad=True)\n(x ** 2).sum().backward()\n"
    torch.manual_seed(0)
    expected = torch.rand(3)
    out = cli_json("vjp", "-", stdin=source.encode())
    assert out["seed"] == 0
    assert torch.allclose(torch.tensor(out["grad_at_end"]["x"], dtype=torch.float64), 2 * expected.double())
    assert any("seed 0" in n for n in out["notices"])
    torch.manual_seed(5)
    other = torch.rand(3)
    out5 = cli_json("vjp", "-", "--seed", "5", stdin=source.encode())
    assert torch.allclose(torch.tensor(out5["grad_at_end"]["x"], dtype=torch.float64), 2 * other.double())


def test_event_option_picks_the_top_level(cli_json):
    source = textwrap.dedent(SCRIPTS["seed_s8_accumulation"]).encode()
    first = cli_json("vjp", "-", "--event", "1", stdin=source)
    last = cli_json("vjp", "-", stdin=source)
    assert first["vjp"]["numeric"] == pytest.approx([2 * 4 / 3, 4 * 4 / 3, 6 * 4 / 3])
    assert last["vjp"]["numeric"] == [1.0, 1.0, 1.0]
    assert last["vjp"]["grad"]["x"] == pytest.approx([11 / 3, 19 / 3, 9.0], rel=1e-6)


def test_functional_jacobian_and_hessian_are_pytorchs(cli_json):
    source = textwrap.dedent("""
        import torch
        from torch.autograd.functional import jacobian, hessian
        def f(x):
            return (x ** 2 * x.sin()).sum()
        x0 = torch.tensor([0.5, 1.0, -2.0])
        H = hessian(f, x0)
    """)
    x0 = torch.tensor([0.5, 1.0, -2.0])
    H = torch.autograd.functional.hessian(lambda x: (x ** 2 * x.sin()).sum(), x0)
    out = cli_json("hessian", "-", stdin=source.encode())
    assert torch.allclose(torch.tensor(out["hessian"]["numeric"], dtype=torch.float64), H.double(), rtol=1e-5)
    assert out["hessian"]["symbolic"] is not None


def test_a_second_backward_through_a_freed_graph_is_pytorchs_error(cli):
    source = b"import torch\nx = torch.tensor([2.0], requires_grad=True)\ny = x * x\n" \
             b"y.backward()\ny.backward()\n"
    r = cli("vjp", "-", stdin=source)
    assert r.code == 2
    assert "line 5" in r.err and "second time" in r.err and "retain_graph=True" in r.err
    assert "Traceback" not in r.err


def test_through_an_addition_a_second_backward_works_as_in_pytorch(cli_json):
    """Seed S10 relies on this: x + 2 saves nothing, so its graph survives backward."""
    source = b"import torch\nx = torch.tensor([2.0], requires_grad=True)\ny = x + 2\n" \
             b"y.backward()\ny.backward()\n"
    out = cli_json("vjp", "-", stdin=source)
    assert out["grad_at_end"]["x"] == [2.0]


@pytest.mark.parametrize("source, code, words", [
    ("import os\nos.system('ls')\nx = 1", 2, "import of os is refused"),
    ("import torch\nx = torch.ones(2, requires_grad=True)\ny = x.__class__\n", 2, "refused"),
    ("import torch\nf = lambda: 0\nz = f.__globals__\n", 2, "refused"),
    ("import torch\nx = torch.ones(2)\ny = getattr(x, 'grad')\n", 2, "not defined"),
    ("import torch\nwhile True:\n    pass\n", 3, "steps"),
    ("import torch\ndef f(n):\n    return f(n + 1)\nf(0)\n", 3, "nested calls"),
    ("import torch\nx = torch.ones(2, requires_grad=True)\ny = open('/etc/passwd')\n", 2,
     "not defined"),
    ("import torch\nx = torch.ones(2, requires_grad=True)\ny = torch.save(x, 'f')\n", 2,
     "not supported"),
])
def test_hostile_scripts_are_refused_or_bounded(cli, source, code, words):
    r = cli("vjp", "-", stdin=source.encode())
    assert r.code == code, r.err
    assert words in r.err
    assert "Traceback" not in r.err


def test_a_notebook_runs_its_code_cells_in_order(cli_json, tmp_path):
    import json

    cells = [{"cell_type": "markdown", "source": ["# Autograd\n"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "import torch\n",
                                              "x = torch.tensor([1.0, 2.0], requires_grad=True)"],
              "outputs": [{"output_type": "stream", "text": ["ignored\n"]}]},
             {"cell_type": "code", "source": "y = (x ** 3).sum()\ny.backward()\nx.grad"}]
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                                "metadata": {}}))
    out = cli_json("vjp", "--file", str(path))
    assert out["vjp"]["grad"]["x"] == [3.0, 12.0]
    piped = cli_json("vjp", "-", stdin=path.read_bytes())
    assert piped["vjp"]["grad"]["x"] == [3.0, 12.0]


def test_at_overrides_a_script_leaf_and_is_checked(cli, cli_json):
    source = textwrap.dedent(SCRIPTS["seed_s8_accumulation"]).encode()
    out = cli_json("vjp", "-", "--at", "x=[1,1,1]", stdin=source)
    assert out["grad_at_end"]["x"] == pytest.approx([11 / 3] * 3, rel=1e-6)
    wrong_name = cli("vjp", "-", "--at", "q=[1,1,1]", stdin=source)
    assert wrong_name.code == 2 and "binds no tensor named 'q'" in wrong_name.err
    wrong_shape = cli("vjp", "-", "--at", "x=[1,1]", stdin=source)
    assert wrong_shape.code == 2 and "shape (2,)" in wrong_shape.err


def test_magic_lines_are_dropped_and_versions_recorded(cli_json):
    source = b"%matplotlib inline\n!pip install torch\nimport torch\n" \
             b"x = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n"
    out = cli_json("vjp", "-", stdin=source)
    assert out["vjp"]["grad"]["x"] == [3.0, 3.0]
    assert set(out["versions"]) == {"jacli", "torch", "sympy"}
    assert out["versions"]["torch"].startswith(torch.__version__.split("+")[0])


def test_many_points_run_each_point_on_its_own_path(cli, tmp_path):
    """--at-file on a script whose loop count depends on the value: one run per point."""
    import json

    points = tmp_path / "points.jsonl"
    points.write_text('{"x": 0.3}\n{"x": 5}\n{"x": -0.01}\n')
    source = "y = x * 2\nwhile y.abs() < 10:\n    y = y * 2\ny.backward()"
    r = cli("grad", source, "--at-file", str(points))
    assert r.code == 0, r.err
    rows = [json.loads(line) for line in r.out.splitlines()][1:]
    for row, x in zip(rows, (0.3, 5.0, -0.01)):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        y = t * 2
        while y.abs() < 10:
            y = y * 2
        y.backward()
        assert row["vjp"] == [t.grad.item()] and row["value"] == [y.item()]


def test_a_custom_backward_is_pytorchs_and_checked_against_its_forward(cli_json):
    """.grad comes from the user's backward (PyTorch's run); the formulas are the forward's
    derivative, and a backward that disagrees with it is said."""
    good = textwrap.dedent(SCRIPTS["custom_function"])
    out = cli_json("vjp", "-", stdin=good.encode())
    assert out["jacobian"]["symbolic"] is not None
    assert not any("differs" in n for n in out["notices"])
    wrong = good.replace("return 3 * t ** 2 * g", "return 2 * t ** 2 * g")
    out = cli_json("vjp", "-", stdin=wrong.encode())
    assert out["vjp"]["grad"]["x"] == [2.0, 8.0]  # what PyTorch computes with that backward
    assert any("differs from what PyTorch's run computed" in n for n in out["notices"])


@pytest.mark.parametrize("body, words", [
    ("for k in range(2):\n    y = x * k\ny.backward()",
     "grad can be implicitly created only for scalar outputs"),
    ("z = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\ng = torch.autograd.grad(y, z)",
     "allow_unused=True"),
    ("y = x.exp()\ny.mul_(2)\ny.sum().backward()", "modified by an inplace operation"),
    ("x.add_(1)", "leaf Variable that requires grad"),
])
def test_pytorchs_own_errors_name_the_line(cli, body, words):
    """Each arises in PyTorch's real run, on the line PyTorch raises it (exit 2)."""
    source = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n" + body
    g: dict = {}
    with pytest.raises(RuntimeError, match=words.split(" (")[0][:30]):
        exec(compile(source, "<test>", "exec"), g)  # the test's own trusted script
    r = cli("vjp", "-", stdin=source.encode())
    assert r.code == 2 and words in r.err, r.err
    assert f"line {len(source.splitlines())}" in r.err and "Traceback" not in r.err


def test_cuda_spellings_stay_on_the_cpu_without_a_gpu(cli_json):
    source = textwrap.dedent("""
        import torch
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        dev = torch.device("cuda")
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        model = torch.nn.Linear(2, 1).to(dev)
        y = model(x.to(dev)).sum()
        y.backward()
    """)
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the script really moves there")
    out = cli_json("vjp", "-", stdin=source.encode())
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    assert out["grad_at_end"]["x"] == pytest.approx(model.weight[0].tolist(), rel=1e-6)
    assert any("no CUDA device here" in n for n in out["notices"])
    assert not any("differs" in n for n in out["notices"])


def test_the_python_api_runs_scripts(tmp_path):
    import jacli

    r = jacli.vjp(textwrap.dedent(SCRIPTS["seed_s8_accumulation"]))
    assert [e["kind"] for e in r.events] == ["backward", "backward"]
    assert r.vjp.grad["x"] == pytest.approx([11 / 3, 19 / 3, 9.0], rel=1e-6)


@pytest.mark.parametrize("source, code, words", [
    ("import torch\na = list(range(10**12))\n", 3, "list() over"),
    ("import torch\nfor v in iter(int, 1):\n    pass\n", 2, "'iter' is not defined"),
    ("import torch\ns = 'a' * 10**10\n", 3, "a sequence of"),
    ("import torch\nn = 2\nfor i in range(40):\n    n = n * n\n", 3, "100 000 bits"),
    ("import torch\nt = '{0.__class__}'.format(1)\n", 2, ".format of a str"),
    ("import torch\ny = sum(range(10**9))\n", 3, "sum() over"),
    ("import torch\nk = 7 ** 10**8\n", 3, "too large a number"),
])
def test_python_itself_is_bounded_in_scripts(cli, source, code, words):
    r = cli("vjp", "-", stdin=source.encode())
    assert r.code == code and words in r.err, r.err


def test_a_typed_program_is_a_one_event_script(cli_json):
    """The expression forms give today's JSON plus a one-element ``events``."""
    out = cli_json("vjp", "x1**2+2*x2, x1*x2", "--at", "1,2", "--v", "1,1")
    (event,) = out["events"]
    assert event["grad"] == out["vjp"]["grad"] and event["vjp"]["numeric"] == [4.0, 3.0]
    assert event["jacobian"] == out["jacobian"] and event["grad_before"] == {"x1": 0.0, "x2": 0.0}
