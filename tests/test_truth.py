"""Every statement jacli makes is true: the mode line, check's verdicts, shape errors.

From the "first contact" reports: a 2×2 J said "reverse is cheaper" at equal cost; a 3×1 J
said "forward is cheaper" and then used reverse mode without saying why in that sentence;
``x/x`` at 0 said ``agree: false`` with ``max_abs_diff: 0``; a finite-difference failure in
``check`` turned SymPy-vs-autograd's ``agree`` false; and ``x @ x`` without a point showed
NumPy's gufunc message.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from jacli.errors import ExitCode


# -- 1. the mode line ------------------------------------------------------------------------
def test_equal_costs_say_equal_cost(cli_json):
    d = cli_json("jacobian", "2*x1*x2, x1+x2", "--at", "1,2")  # a literal: the reverse rule
    mode = d["structure"]["mode"]
    assert "equal cost" in mode and "cheaper" not in mode and "fewer" not in mode, mode
    assert d["strategy_short"] == "reverse mode, 2 VJPs (equal cost)"


def test_the_mode_with_more_passes_says_why_in_the_same_sentence(cli_json):
    d = cli_json("jacobian", "2*x, x**2, x**3", "--at", "1")  # a literal: the reverse rule
    mode = d["structure"]["mode"]
    assert "forward is cheaper" not in mode
    assert "forward mode needs fewer passes, but reverse mode" in mode
    assert "was used because" in mode and "docs/benchmarks.md" in mode
    assert mode.count(";") == 0  # one sentence: the why is not a separate clause
    short = d["strategy_short"]
    assert short.startswith("reverse mode, 3 VJPs (forward needs only 1 JVP, but ")
    assert "measured faster" in short and "\n" not in short and len(short) < 100


def test_a_requested_mode_says_it_was_requested(cli_json):
    d = cli_json("jacobian", "x1 + x2 + x3", "--at", "1,2,3", "--mode", "fwd")
    assert "because --mode fwd asked for it" in d["structure"]["mode"]
    assert d["strategy_short"] == ("forward mode, 3 JVPs (reverse needs only 1 VJP, but "
                                   "--mode fwd asked for it)")


@pytest.mark.parametrize("tensors, warm, requested", list(itertools.product(
    [False, True], [False, True], ["auto", "fwd", "rev"])))
def test_mode_text_never_calls_the_dearer_mode_cheaper(tensors, warm, requested):
    from jacli.analysis.modes import choose_mode, mode_line
    from jacli.analysis.structure import structure

    for m, n in [(1, 1), (2, 2), (3, 1), (1, 3), (20, 4), (64, 64), (300, 20), (40, 300)]:
        choice = choose_mode(m, n, requested, tensors, warm)
        mode, short = structure(None, m, n, choice)["mode"], mode_line(m, n, choice)
        used = choice[0]
        if m == n:
            assert "equal cost" in mode and "equal cost" in short
            assert "cheaper" not in mode and "fewer" not in mode
        elif (m < n) == (used == "rev"):  # the mode used needs fewer passes
            assert f"({'reverse' if used == 'rev' else 'forward'} mode needs fewer)" in mode
        else:  # the mode used needs more: the same sentence says why
            assert "needs fewer passes, but" in mode and "was used because" in mode, mode
            assert ", but " in short, short
        assert "\n" not in short and len(short) < 120, short


# -- 2. check's verdicts -----------------------------------------------------------------------
def test_a_finite_difference_failure_leaves_sympys_verdict_alone(cli):
    r = cli("check", "relu(x)", "--at", "x=0", "--json")
    assert r.code == ExitCode.DISAGREE  # the exit code still counts finite differences
    c = json.loads(r.out)["check"]
    assert c["agree"] is True and c["disagreements"] == []  # SymPy vs autograd: they agree
    assert c["finite_differences"]["agree"] is False
    assert c["finite_differences"]["disagreements"] == ["dy/dx"]
    assert c["all_agree"] is False and c["failed"] == ["finite_differences"]


def test_check_names_the_comparison_that_failed(cli):
    r = cli("check", "x/x", "--at", "x=0", "--json")
    assert r.code == ExitCode.DISAGREE
    c = json.loads(r.out)["check"]
    assert c["agree"] is False and c["failed"] == ["sympy"] and c["all_agree"] is False
    # autograd's J is nan there: finite differences had nothing finite to compare it with
    fd = c["finite_differences"]
    assert fd["compared"] == 0 and fd["not_compared"] == ["dy/dx"] and fd["agree"] is None


def test_agreeing_check_says_so_everywhere(cli_json):
    c = cli_json("check", "x1**2*x2", "--at", "1,2")["check"]
    assert c["agree"] is True and c["all_agree"] is True and c["failed"] == []
    assert c["finite_differences"]["compared"] == 2 and c["max_abs_diff_reason"] is None


@pytest.mark.parametrize("command", ["jacobian", "check"])
def test_a_disagreement_never_reports_a_zero_difference(cli, command):
    r = cli(command, "x/x", "--at", "x=0", "--json")
    assert r.code == ExitCode.DISAGREE
    c = json.loads(r.out, parse_constant=lambda t: pytest.fail(f"non-strict JSON {t}"))["check"]
    assert c["agree"] is False and c["disagreements"] == ["y", "dy/dx"]
    assert c["max_abs_diff"] == "NaN"  # |nan - 1|: strict JSON's string, not 0
    assert "autograd gives nan" in c["max_abs_diff_reason"] and "y" in c["max_abs_diff_reason"]


# -- 3. shape errors in PyTorch's words ---------------------------------------------------------
P = "a = x*ones(2,2); b = x*ones(3); c = x*ones(2); d = x*ones(2,3); "
SHAPE_ERRORS = [
    ("x @ x", "both arguments to matmul need to be at least 1D, but they are 0D and 0D"),
    (P + "a @ b", "size mismatch, got input (2), mat (2x2), vec (3)"),
    (P + "d @ d", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    (P + "b @ c", "inconsistent tensor size, expected tensor [3] and src [2]"),
    (P + "matmul(x, c)", "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    (P + "mm(a, c)", "mat2 must be a matrix"),
    (P + "mm(d, d)", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    (P + "mv(c, c)", "vector + matrix @ vector expected, got 1, 1, 1"),
    (P + "mv(a, b)", "size mismatch, got input (2), mat (2x2), vec (3)"),
    (P + "dot(b, c)", "inconsistent tensor size, expected tensor [3] and src [2]"),
    (P + "a + b", "The size of tensor a (2) must match the size of tensor b (3) at "
                  "non-singleton dimension 1"),
    (P + "c * b", "The size of tensor a (2) must match the size of tensor b (3)"),
    (P + "maximum(c, b)", "The size of tensor a (2) must match the size of tensor b (3)"),
    (P + "a.view(3)", "shape '[3]' is invalid for input of size 4"),
    (P + "a.reshape(-1, 3)", "shape '[-1, 3]' is invalid for input of size 4"),
    (P + "a.view(-1, -1)", "only one dimension can be inferred"),
    # siblings: writes, indexing, dimensions, cat/stack
    (P + "c[:] = b; c", "The expanded size of the tensor (2) must match the existing size (3)"),
    (P + "c[0] = b; c", "the number of sizes provided (0) must be greater or equal to the "
                        "number of dimensions in the tensor (1)"),  # was an internal error
    (P + "a[5]", "index 5 is out of bounds for dimension 0 with size 2"),
    (P + "a[0, 0, 0]", "too many indices for tensor of dimension 2"),
    (P + "a.sum(dim=3)", "Dimension out of range (expected to be in range of [-2, 1], but got 3)"),
    (P + "a.mean(dim=-3)", "(expected to be in range of [-2, 1], but got -3)"),
    (P + "x.sum(dim=1)", "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    (P + "a.transpose(0, 3)", "Dimension out of range"),
    (P + "a.unsqueeze(5)", "(expected to be in range of [-3, 2], but got 5)"),
    (P + "cat([a, b])", "Tensors must have same number of dimensions: got 2 and 1"),
    (P + "cat([a, d])", "Sizes of tensors must match except in dimension 0. Expected size 2 but "
                        "got size 3 for tensor number 1 in the list."),
    (P + "stack([a, b])", "stack expects each tensor to be equal size, but got [2, 2] at entry 0 "
                          "and [3] at entry 1"),
]
NUMPY_WORDS = ("gufunc", "operand", "could not be broadcast", "array", "axis", "numpy")


@pytest.mark.parametrize("src, words", SHAPE_ERRORS, ids=[s[0][-14:] for s in SHAPE_ERRORS])
def test_shape_errors_speak_pytorch_with_or_without_a_point(cli, src, words):
    """Without --at only the symbolic (NumPy) side runs; with it, torch raises first. Both
    give torch's message, positioned, with a hint, as a shape error (exit 2)."""
    messages = []
    for extra in ((), ("--at", "x=1")):
        r = cli("jacobian", src, *extra, "--json")
        assert r.code == ExitCode.BAD_INPUT, r.out
        err = json.loads(r.out)["error"]
        assert err["kind"] == "shape" and err["hint"] and err["line"] == 1, err
        assert words in err["message"], err["message"]
        assert not any(w in err["message"].lower() for w in NUMPY_WORDS), err["message"]
        assert "Traceback" not in r.err
        messages.append(err["message"])
    assert messages[0] == messages[1]


def _torch_message(f, a, b):
    import torch

    try:
        f(torch.zeros(a), torch.zeros(b))
    except (RuntimeError, IndexError) as e:
        return str(e).split("\n")[0]
    return None


def test_shape_messages_match_torch_on_random_shapes():
    """The symbolic side's refusals are torch's own words, shape for shape (plain tensors)."""
    import numpy as np
    import sympy as sp
    import torch

    from jacli.backends.functions import TABLE
    from jacli.backends.torch_messages import (broadcast_error, expand_error, matmul_error,
                                               reshape_error)

    def arr(shape):
        out = np.empty(shape, dtype=object)
        out.fill(sp.Integer(1))
        return out

    def sym_message(row, a, b):
        try:
            TABLE[row].sym(None, arr(a), arr(b))
        except RuntimeError as e:
            return str(e)
        return None

    rng = random.Random(7)
    shape = lambda: tuple(rng.choice([1, 2, 3]) for _ in range(rng.randint(0, 4)))  # noqa: E731
    for _ in range(400):
        a, b = shape(), shape()
        assert matmul_error(a, b) == _torch_message(torch.matmul, a, b), (a, b)
        assert broadcast_error(a, b) == _torch_message(torch.add, a, b), (a, b)
        for row, f in (("mm", torch.mm), ("mv", torch.mv), ("dot", torch.dot)):
            assert sym_message(row, a, b) == _torch_message(f, a, b), (row, a, b)
        target = torch.zeros(a)
        try:
            target[...] = torch.zeros(b)
            want = None
        except RuntimeError as e:
            want = str(e).split("\n")[0].replace("FloatTensor", "DoubleTensor")
        assert expand_error(b, a) == want, (a, b)
        dims = tuple(rng.choice([-2, -1, 0, 1, 2, 3, 4]) for _ in range(rng.randint(0, 3)))
        try:
            torch.zeros(a).reshape(dims)
            want = None
        except RuntimeError as e:
            want = str(e)
        assert reshape_error(int(np.prod(a)), dims) == want, (a, dims)
