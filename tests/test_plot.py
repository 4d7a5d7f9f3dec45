"""``--plot FILE``: pictures of J (H, vᵀJ, J u, check's errors) that show exactly the numbers
of the Result, a colour scale centred on 0, exact zeros marked, honest downsampling, and a
clear refusal (before anything runs) when matplotlib or the suffix is missing."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason='--plot needs matplotlib: pip install "jacli[plot]" '
                    '(it is in the "test" extra)')

from jacli.analysis.compute import compute  # noqa: E402
from jacli.render import heat as heat_module  # noqa: E402
from jacli.render.plot import ZERO, heat_data, norm_of, plot  # noqa: E402
from jacli.request.problem import build  # noqa: E402
from jacli.result import Matrix, Result, Variable  # noqa: E402

W = "[[1,0,2],[0,-3,0],[0.5,0,0]]"
RUNS = {  # one single-point run per command that takes --plot
    "jacobian": ("tanh(W @ x)", ["W=" + W, "x=[0.5,-1,0.25]"], {}),
    "vjp": ("a @ w", ["a=[[2,3],[1,2]]", "w=[[0],[0]]"], {"v": "[[1],[1]]"}),
    "grad": ("sum(x**2)", ["x=[1,-2,3]"], {}),
    "jvp": ("sin(x1)*x2, x1**2", ["1,2"], {"u": "1,0"}),
    "hessian": ("x1**2*x2 + exp(x1)*x3", ["1,2,3"], {}),
    "check": ("exp(-x**2) * (W @ x)", ["W=" + W, "x=[0.8,-0.6,0.3]"], {}),
}
MAGIC = {".png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
         ".pdf": lambda b: b.startswith(b"%PDF-"),
         ".svg": lambda b: ET.fromstring(b).tag.endswith("svg")}


def _argv(command: str) -> list[str]:
    source, at, opts = RUNS[command]
    argv = [command, source]
    for a in at:
        argv += ["--at", a]
    for key, value in opts.items():
        argv += [f"--{key}", value]
    return argv


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    out = {}
    for command, (source, at, opts) in RUNS.items():
        out[command] = compute(build(command, source, at=at, **opts))
    return out


@pytest.mark.parametrize("command, suffix", list(zip(RUNS, [".png", ".svg", ".pdf"] * 2)))
def test_cli_writes_the_picture_and_leaves_the_output_alone(cli, tmp_path, command, suffix):
    plain = cli(*_argv(command), "--json")
    path = tmp_path / f"{command}{suffix}"
    drawn = cli(*_argv(command), "--json", "--plot", str(path))
    assert drawn.code == plain.code == 0, drawn.err
    assert drawn.out == plain.out  # stdout is the data, unchanged
    assert MAGIC[suffix](path.read_bytes())
    assert f"picture written to {path}" in drawn.err and str(path) not in drawn.out


def test_table_output_is_unchanged_by_plot(cli, tmp_path):
    plain = cli(*_argv("jacobian"))
    drawn = cli(*_argv("jacobian"), "--plot", str(tmp_path / "j.svg"))
    assert drawn.out == plain.out and drawn.code == plain.code == 0


@pytest.mark.parametrize("command", ["check"])
def test_every_format(results, tmp_path, command):
    """With the CLI test above (each command, the suffixes in turn): every suffix is a file
    of its format, for the layout with the most panels."""
    for suffix, looks_right in MAGIC.items():
        path = tmp_path / f"{command}{suffix}"
        plot(results[command], str(path))
        assert looks_right(path.read_bytes()), (command, suffix)


def test_heat_data_is_the_numeric_jacobian_with_its_exact_zeros(results):
    r = results["jacobian"]
    h = heat_data(r)
    assert np.array_equal(h.values, np.array(r.jacobian.numeric))
    assert np.array_equal(h.zero, np.array([[s == "0" for s in row] for row in r.jacobian.exact]))
    assert h.zero.any() and not h.zero.all() and h.nonzero == int((~h.zero).sum())
    assert h.rows == r.outputs and h.cols == r.inputs
    assert h.col_groups == (("W", 0, 9), ("x", 9, 12)) and h.note == ""


def test_hessian_draws_H(results):
    r = results["hessian"]
    h = heat_data(r)
    assert np.array_equal(h.values, np.array(r.hessian.numeric))
    assert h.rows == h.cols == r.inputs and h.name.startswith("H")


def test_without_exact_values_zeros_are_autograds_zeros(results):
    r = results["jacobian"]
    r = replace(r, jacobian=Matrix(numeric=r.jacobian.numeric))
    h = heat_data(r)
    assert np.array_equal(h.zero, np.array(r.jacobian.numeric) == 0)
    assert h.zeros_from == "numeric"


def test_colours_are_centred_on_zero_and_zeros_are_grey(results, tmp_path):
    r = results["jacobian"]
    # a tiny nonzero number next to the structural zeros: it must not look like them
    J = [row[:] for row in r.jacobian.numeric]
    J[0][0] = 1e-13
    exact = [list(row) for row in r.jacobian.exact]
    exact[0][0] = "1/10000000000000"
    r = replace(r, jacobian=Matrix(exact=exact, numeric=J))
    norm = norm_of(np.array(J))
    top = np.abs(J).max()
    assert norm(0.0) == 0.5 and norm.vmin == -top and norm.vmax == top
    fig = plot(r, str(tmp_path / "c.png"))
    rgba = fig.axes[0].images[0].get_array()
    cmap = __import__("matplotlib").colormaps["RdBu_r"]
    h = heat_data(r)
    for (i, j), x in np.ndenumerate(h.values):
        want = ZERO if h.zero[i, j] else cmap(0.5 + x / (2 * top))
        assert np.allclose(rgba[i, j], want), (i, j, x)
    assert not np.allclose(rgba[0, 0], ZERO)  # 1e-13 is drawn, not greyed
    title = fig.axes[0].get_title()
    assert "exact 0" in title and f"{h.nonzero} of {h.values.size} nonzero" in title


def _big(m: int, n: int) -> Result:
    """A synthetic m×n J with one signed entry per row (no computing: the pooling is the
    subject) and a few structural zeros between."""
    rng = np.random.default_rng(0)
    J = np.zeros((m, n))
    cols = rng.integers(0, n, m)
    J[np.arange(m), cols] = rng.choice([-1.0, 1.0], m) * rng.uniform(0.5, 9.0, m)
    return Result(command="jacobian", source="big", variables=(Variable("x", (n,)),),
                  inputs=tuple(f"x[{j}]" for j in range(n)),
                  outputs=tuple(f"y[{i}]" for i in range(m)), output_shape=(m,),
                  output_label="y", order="natural",
                  jacobian=Matrix(numeric=J.tolist()))


def test_big_matrix_is_pooled_honestly_and_says_so(tmp_path):
    m, n = 1001, 1000  # 1001 rows: the last block holds a single row
    r = _big(m, n)
    J = np.array(r.jacobian.numeric)
    h = heat_data(r)
    assert h.values.shape == (334, 500) and h.shape == (m, n)
    assert h.note == "downsampled 1001×1000 → 334×500 by max-|·| pooling (3×2 blocks)"
    for i in range(m):  # every row's entry lives on in its block, sign and size kept
        j = int(np.abs(J[i]).argmax())
        block = h.values[i // 3, j // 2]
        assert abs(block) >= abs(J[i, j]) and (abs(block) > abs(J[i, j]) or block == J[i, j])
    for (a, b), x in np.ndenumerate(h.values[:, :50]):  # each block is its own max-|·| entry
        cell = J[3 * a:3 * a + 3, 2 * b:2 * b + 2]
        assert x == cell.flat[np.abs(cell).argmax()]
        assert h.zero[a, b] == (cell == 0).all()
    fig = plot(r, str(tmp_path / "big.png"))
    assert "downsampled 1001×1000 → 334×500 by max-|·| pooling" in fig.axes[0].get_title()


def test_pooling_never_hides_a_nan():
    a = np.array([[1.0, np.nan], [5.0, -7.0]])
    assert math.isnan(heat_module.pool(a, 2, 2)[0, 0])
    assert heat_module.pool(np.array([[1.0, -7.0, 2.0]]), 1, 2).tolist() == [[-7.0, 2.0]]


def test_check_draws_both_errors(results, tmp_path):
    r = results["check"]
    sym, fd = heat_module.errors(r)
    numeric = np.array(r.jacobian.numeric)
    exact = np.array([[heat_module.exact_float(s) for s in row] for row in r.jacobian.exact])
    assert np.array_equal(sym.values, np.abs(numeric - exact))
    assert np.array_equal(fd.values, np.abs(numeric - np.array(
        r.check.finite_differences["numeric"])))
    assert (fd.values > 0).any() and np.array_equal(fd.zero, fd.values == 0)
    # the drawn errors are the ones the check judged (its exact values, not our rounding)
    assert sym.values.max() == r.check.max_abs_diff > 0
    assert fd.values.max() == r.check.finite_differences["max_abs_diff"]
    fig = plot(r, str(tmp_path / "check.png"))
    titles = [ax.get_title() for ax in fig.axes]
    assert any("|autograd − SymPy|" in t for t in titles)
    assert any("|autograd − finite differences|" in t and "log scale" in t for t in titles)


def test_exact_values_are_read_not_evaluated():
    assert heat_module.exact_float("2*cos(1)") == 2 * math.cos(1)
    assert heat_module.exact_float("sqrt(2)/2 - 1/3") == pytest.approx(0.37377344785321, 1e-13)
    # correctly rounded, not float arithmetic (math.cos would give 1 - 1.0 = 0 here)
    assert heat_module.exact_float("1 - cos(1/100000000)") == pytest.approx(5e-17, rel=1e-9)
    assert heat_module.exact_float("2**100000") == math.inf  # no giant integers
    assert heat_module.exact_float("-oo") == -math.inf
    for hostile in ("__import__('os').system('true')", "x.real", "zoo", "I*2", "(1).__class__",
                    "sqrt(-1)"):
        assert math.isnan(heat_module.exact_float(hostile)), hostile


def _probe(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_missing_matplotlib_says_what_to_install_before_anything_runs(tmp_path):
    path = tmp_path / "j.png"
    out = _probe(
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'matplotlib' else real(n, *a)\n"
        "from jacli.cli import main\n"
        f"code = main(['jacobian', 'x**2', '--at', 'x=1', '--plot', {str(path)!r}])\n"
        "print(code, 'torch' in sys.modules, 'sympy' in sys.modules)")
    assert out.stdout.split() == ["2", "False", "False"], out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "jacli[plot]"' in lines[0]
    assert "matplotlib" in lines[0] and not path.exists()


@pytest.mark.parametrize("argv, needle", [
    (["jacobian", "x**2", "--at", "x=1", "--plot", "j.jpg"], "unknown picture format '.jpg'"),
    (["jacobian", "x**2", "--at", "x=1", "--plot", "nofolder/j.png"], "does not exist"),
    (["jacobian", "x**2", "--at", "x=1", "--at", "x=2", "--plot", "j.png"],
     "--plot does not apply to many points"),
    (["graph", "x**2", "--at", "x=1", "--plot", "j.png"], "graph takes no --plot"),
])
def test_refusals(cli, tmp_path, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    r = cli(*argv)
    assert r.code == 2 and needle in r.err and "Traceback" not in r.err, r.err
    assert list(tmp_path.iterdir()) == []


def test_help_imports_no_matplotlib_and_names_the_option():
    out = _probe("import sys, contextlib, io\nfrom jacli.cli import main\n"
                 "buf = io.StringIO()\n"
                 "with contextlib.redirect_stdout(buf):\n"
                 "    main(['jacobian', '--help'])\n"
                 "print('--plot' in buf.getvalue(), "
                 "[m for m in ('matplotlib', 'torch', 'numpy') if m in sys.modules])")
    assert out.stdout.strip() == "True []", out.stderr


def test_a_nan_is_never_greyed_as_an_exact_zero(tmp_path):
    r = replace(_big(2, 3), jacobian=Matrix(exact=[["0", "1", "0"], ["2", "0", "nan"]],
                                            numeric=[[float("nan"), 1.0, 0.0],
                                                     [2.0, 0.0, float("nan")]]))
    fig = plot(r, str(tmp_path / "nan.png"))
    rgba = fig.axes[0].images[0].get_array()
    assert np.allclose(rgba[0, 0], (0, 0, 0, 1)) and np.allclose(rgba[1, 2], (0, 0, 0, 1))
    assert np.allclose(rgba[0, 2], ZERO) and "black = NaN/±inf" in fig.axes[0].get_title()
