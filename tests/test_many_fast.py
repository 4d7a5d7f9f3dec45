"""The fast paths behind the user's wait: the bulk JSON Lines writer (``many.jsonl``) writes
what ``json.dumps(row)`` writes, on the numbers where layouts differ; ``structure``'s linear
algebra (torch, one thread) gives NumPy's rank, determinant and condition number."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from jacli import Problem
from jacli.analysis.literals import literal_free
from jacli.analysis.modes import choose_mode
from jacli.analysis.structure import structure
from jacli.many import batched as core
from jacli.many import jsonl
from jacli.many.stream import evaluate_many, json_lines
from jacli.request.points import read_points
from jacli.result import strict

# every way a float64 can be laid out: zeros of both signs, subnormals, the 1e-4 and 1e16
# boundaries of repr's exponent form, integers beyond 2**53, huge and tiny powers
TRICKY = [0.0, -0.0, 1e-320, 5e-324, -1e-320, 1e-9, 1.5e-7, 1e-5, 9.99e-5, 1e-4, 0.00012,
          0.1, 1.0, 2.0, -3.5, 12345.678, 1e15, 9999999999999998.0, 1e16, 1.0e17,
          2.0 ** 60, 9007199254740993.0, 123456789012345678.0, 1e22, 1.5e300, -1.7e308,
          1 / 3, 2 / 3, math.pi, 0.30000000000000004]


def _arrays(n_points: int, m: int, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """value (N, m) and jacobian (N, m, n) drawn from TRICKY and random bit patterns."""
    rng = np.random.default_rng(seed)
    pool = np.array(TRICKY + list(rng.standard_normal(20) * 10.0 ** rng.integers(-12, 20, 20)))
    return {"value": rng.choice(pool, (n_points, m)), "jacobian": rng.choice(pool, (n_points, m, n))}


def _dumps(start: int, arrays: dict, keys) -> list[str]:
    """The per-line writer: ``json.dumps`` of each row's object."""
    N = len(arrays[keys[0]])
    return [json.dumps({"index": start + i, **{k: arrays[k][i].tolist() for k in keys}}) + "\n"
            for i in range(N)]


def _orjson_stand_in(monkeypatch):
    """A stand-in for orjson with its compact layout and its way of writing small numbers
    (``1e-5`` → ``0.00001``; ``1.5e-7`` → ``1.5e-7``), which repr lays out otherwise: rows
    holding them must not take its text."""
    class StandIn:
        OPT_SERIALIZE_NUMPY = 0

        @staticmethod
        def dumps(a, option=0):
            text = json.dumps(a.tolist(), separators=(",", ":"))
            return text.replace("e-05", "e-5").replace("e-07", "e-7").encode()

    monkeypatch.setattr(jsonl, "orjson", StandIn)


@pytest.mark.parametrize("shape", [(7, 3, 3), (5, 1, 4), (4, 2, 1), (1, 3, 2)])
@pytest.mark.parametrize("writer", ["repr", "stand-in", "orjson"])
def test_bulk_lines_are_json_dumps_byte_for_byte(shape, writer, monkeypatch):
    if writer == "orjson" and jsonl.orjson is None:
        pytest.skip("orjson is not installed (the optional `fast` extra); the stand-in runs")
    if writer == "stand-in":
        _orjson_stand_in(monkeypatch)
    arrays = _arrays(*shape, seed=sum(shape))
    for keys in (["value", "jacobian"], ["value"]):
        got = jsonl.lines(40, arrays, keys, use_orjson=writer != "repr")
        assert got == _dumps(40, arrays, keys)


def test_bulk_lines_on_every_tricky_number_and_a_vjp_shape():
    values = np.array(TRICKY).reshape(-1, 2)  # (N, 2): a value and a vjp of two numbers
    arrays = {"value": values, "vjp": values[:, ::-1]}
    for fast in (False, jsonl.orjson is not None):
        assert jsonl.lines(0, arrays, ["value", "vjp"], use_orjson=fast) == \
            _dumps(0, arrays, ["value", "vjp"])


@pytest.mark.parametrize("N", [1, 3, 25_000])  # one point: every entry constant; past
def test_entries_constant_over_the_points_are_written_once_and_alike(N):  # the fork
    """Constant entries go into the row's format (``_template``): the lines are still
    json.dumps' byte for byte, with 0.0 and -0.0 told apart, tricky constants laid out by
    repr, and empty shapes."""
    rng = np.random.default_rng(N)
    J = rng.choice(np.array(TRICKY), (N, 3, 4))
    J[:, 0, 1], J[:, 1, 2], J[:, 2, 0] = 2.0, 1e-5, -0.0  # constant entries
    J[:, 2, 3] = 0.0
    J[N // 2:, 2, 3] = -0.0  # equal, not the same bits: not a constant
    arrays = {"value": rng.choice(np.array(TRICKY), (N, 3)), "jacobian": J,
              "vjp": np.zeros((N, 0))}
    for keys in (["value", "jacobian"], ["value", "vjp"]):
        assert jsonl.lines(7, arrays, keys, use_orjson=False) == _dumps(7, arrays, keys)
    row, _ = jsonl._template({"jacobian": J}, ["jacobian"])
    assert "2.0" in row and "1e-05" in row and row.count("%r") == (0 if N == 1 else 12 - 3)


def test_the_stand_in_really_lays_out_small_numbers_otherwise(monkeypatch):
    """Guard for the test above: without the routing of small numbers to repr, its text
    would differ (so a stand-in row that passed was routed, not lucky)."""
    _orjson_stand_in(monkeypatch)
    arrays = {"value": np.array([[1e-5, 2.0]])}
    assert jsonl._cut(arrays["value"]) == ["[1e-5, 2.0]"]
    assert jsonl.lines(0, arrays, ["value"], use_orjson=True) == \
        ['{"index": 0, "value": [1e-05, 2.0]}\n']


@pytest.mark.parametrize("source", [
    "x1**2 + x2/1e6, 1e-7*x2, x1*1e17, sqrt(x2)",  # small and huge numbers, NaN at x2 < 0
    "1/x1, log(x1)*x2"])  # Infinity at x1 = 0
def test_the_stream_is_what_json_dumps_strict_gives(source, monkeypatch):
    """The whole ``--at-file`` stream, bulk writer and the slow rows (non-finite, checked),
    over several chunks, byte for byte the per-row ``json.dumps(strict(row))``."""
    monkeypatch.setattr(core, "MAX_CHUNK", 3)
    points = [{"x1": i / 7 - 0.3, "x2": 2 - i / 2} for i in range(8)] + [{"x1": 0, "x2": -1}]
    text = "".join(json.dumps(p) + "\n" for p in points)
    problem = Problem(source)
    fast = "".join(b.text for b in json_lines(problem, read_points(text, "--at-file")))
    slow = "".join(json.dumps(strict(row), allow_nan=False) + "\n"
                   for row in evaluate_many(problem, read_points(text, "--at-file")))
    assert fast == slow
    assert "NaN" in fast or "Infinity" in fast


# -- structure: torch's linear algebra, NumPy's answers ----------------------------------------
def _matrices():
    rng = np.random.default_rng(3)
    low_rank = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))
    yield "square", rng.standard_normal((5, 5))
    yield "tall", rng.standard_normal((7, 3))
    yield "wide", rng.standard_normal((3, 8))
    yield "rank 2", low_rank
    yield "singular", np.array([[1.0, 2.0], [2.0, 4.0]])
    yield "negative det", np.array([[0.0, 1.0], [1.0, 0.0]]) * 3
    yield "det past float range", np.eye(4) * 2.0 ** 300
    yield "ill-conditioned", np.diag([1e8, -1.0, 1e-8])
    yield "200×200", rng.standard_normal((200, 200))


@pytest.mark.parametrize("name, A", list(_matrices()), ids=[n for n, _ in _matrices()])
def test_structure_gives_numpys_rank_det_and_condition(name, A):
    m, n = A.shape
    threads = torch.get_num_threads()
    for J in (A.tolist(), torch.tensor(A)):  # nested lists (the CLI's) and a tensor
        got = structure(J, m, n, None)
        assert torch.get_num_threads() == threads  # one thread inside, restored after
        assert got["rank"] == np.linalg.matrix_rank(A)
        assert got["full_rank"] == (got["rank"] == min(m, n))
        s = np.linalg.svd(A, compute_uv=False)
        if got["full_rank"]:
            assert got["condition_number"] == pytest.approx(s[0] / s[-1], rel=1e-6)
        else:  # σ_min is rounding noise (or 0): only its size is NumPy's
            assert got["condition_number"] > 1e12 and (s[-1] == 0 or s[0] / s[-1] > 1e12)
        if m != n:
            assert "determinant" not in got
            continue
        sign, logdet = np.linalg.slogdet(A)
        if sign == 0:
            assert got["determinant"] == 0.0
        elif logdet > 709:  # past float range: ±inf with NumPy's sign
            assert got["determinant"] == math.copysign(math.inf, sign)
        else:
            assert got["determinant"] == pytest.approx(float(np.linalg.det(A)), rel=1e-9)


def test_structure_of_a_non_finite_j_says_why():
    got = structure([[1.0, float("nan")], [0.0, 1.0]], 2, 2, None)
    assert "rank" not in got and "non-finite" in got["note"]


# -- the strategy rule for scalar systems: forward mode when no literal enters a term ---------
@pytest.mark.parametrize("source, plain", [
    ("x1**2*x2+sin(x1), x2**2*x1+sin(x2)", True), ("y = sin(x1)*x2; y*x1, -x2", True),
    ("x1**x2, exp(x1)", True), ("2*x1+x2", False), ("x1/4, x2", False), ("x1+1", False),
    ("pi*x1", False), ("y = x1*x2; y**2 + 3", False)])
def test_literal_free_programs_take_forward_mode(source, plain):
    from jacli import hooks

    program = hooks.parse(source)
    assert literal_free(program) == plain
    mode, impl, why = choose_mode(3, 3, "auto", tensors=False, literals=not plain)
    assert (mode, impl) == (("fwd", "af_fwd") if plain else ("rev", "af_rev"))
    assert ("no number literal" in why) == plain
    assert choose_mode(3, 3, "rev", tensors=False, literals=False)[:2] == ("rev", "af_rev")


def test_the_api_reports_the_forward_rule_and_its_numbers_match_reverse():
    import jacli

    src = ", ".join(f"x{i}**2*x{i % 6 + 1}+sin(x{i})" for i in range(1, 7))
    at = ",".join(str(0.2 * i) for i in range(1, 7))
    auto = jacli.jacobian(src, at=at, symbolic="never")
    rev = jacli.jacobian(src, at=at, symbolic="never", mode="rev")
    assert auto.strategy.startswith("forward mode") and rev.strategy.startswith("reverse mode")
    assert torch.allclose(torch.tensor(auto.jacobian.numeric, dtype=torch.float64),
                          torch.tensor(rev.jacobian.numeric, dtype=torch.float64), rtol=1e-14)


def test_the_forward_rule_says_why_when_it_needs_more_passes():
    from jacli.analysis.modes import mode_line

    for m, n in [(2, 2), (3, 1), (1, 3), (20, 4), (40, 300)]:
        choice = choose_mode(m, n, "auto", tensors=False, literals=False)
        mode, short = structure(None, m, n, choice)["mode"], mode_line(m, n, choice)
        assert choice[0] == "fwd"
        if m == n:
            assert "equal cost" in mode and "equal cost" in short
        elif m > n:
            assert "(forward mode needs fewer)" in mode
        else:  # forward needs n > m passes: the same sentence says why
            assert "needs fewer passes, but forward mode" in mode and "no number literal" in mode
            assert "without literals" in short and len(short) < 120, short


def test_the_two_process_writer_writes_the_same_lines(monkeypatch):
    """Past ``PARALLEL_ROWS`` a forked child writes the second half: the lines are the same,
    byte for byte, as one process writes them, and as ``json.dumps`` writes each row."""
    arrays, keys = _arrays(jsonl.PARALLEL_ROWS + 501, 2, 3, seed=5), ["value", "jacobian"]
    monkeypatch.setenv("JACLI_OVERLAP", "1")
    two = jsonl.lines(7, arrays, keys, use_orjson=False)
    monkeypatch.setenv("JACLI_OVERLAP", "0")
    one = jsonl.lines(7, arrays, keys, use_orjson=False)
    assert two == one == _dumps(7, arrays, keys)


def test_the_two_process_writer_survives_a_child_that_writes_nothing():
    import os

    parent = os.getpid()

    def write(a: int, b: int) -> list[str]:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return [f"{i}\n" for i in range(a, b)]

    n = jsonl.PARALLEL_ROWS * 2
    assert jsonl.halves(write, n) == [f"{i}\n" for i in range(n)]
