"""Work a process repeats is done once: a program is parsed and lowered once per source
text, its symbolic Jacobian derived once and substituted per point. The caches are bounded,
share only immutable things, and leak nothing from one request into the next."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
import torch

import jacli
from jacli.analysis import formulas, prepare
from jacli.backends.tensors import TorchBackend
from jacli.bounds import DEFAULT_LIMITS
from jacli.cli.batch import answer
from jacli.errors import JacliError
from jacli.runtime import interpret
from jacli.runtime.lru import Lru

SOURCE = "x1**2*x2 + sin(x1), abs(x1 - x2)"
PROGRAM = "y = x1**2*x2 + sin(x1); z = abs(x1 - x2); y"


def test_the_same_text_gives_the_same_frozen_program():
    first = prepare.parsed(SOURCE, None, DEFAULT_LIMITS)
    again = prepare.parsed(SOURCE, None, dataclasses.replace(DEFAULT_LIMITS, timeout=3.0))
    assert again is first
    assert prepare.parsed(PROGRAM, None, DEFAULT_LIMITS) is not first
    chosen = prepare.parsed(PROGRAM, "z", DEFAULT_LIMITS)  # --output: another program
    assert chosen is not prepare.parsed(PROGRAM, None, DEFAULT_LIMITS)
    assert chosen is prepare.parsed(PROGRAM, "z", DEFAULT_LIMITS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.source = "x"


def test_a_refusal_is_not_cached():
    for _ in range(2):
        with pytest.raises(JacliError, match="syntax"):
            prepare.parsed("x +", None, DEFAULT_LIMITS)
    assert all(key[0] != "x +" for key in prepare.PROGRAMS._entries)


def test_lowerings_are_shared_by_alike_torch_backends_only():
    program = prepare.parsed(SOURCE, None, DEFAULT_LIMITS)
    one, two = TorchBackend(), TorchBackend()
    assert interpret.compiled(program, one) is interpret.compiled(program, two)
    assert interpret.compiled(program, TorchBackend("float32")) is not \
        interpret.compiled(program, one)


def test_the_caches_are_bounded():
    cache = Lru(3)
    for i in range(10):
        cache.put(i, str(i))
        cache.get(i - 2)  # refreshed: it outlives older entries
    assert len(cache) == 3 and cache.get(0) is None and cache.get(9) == "9"
    for i in range(prepare.PROGRAMS.size + 5):
        prepare.parsed(f"x**2 + {i}", None, DEFAULT_LIMITS)
    assert len(prepare.PROGRAMS) == prepare.PROGRAMS.size
    assert len(interpret.LOWERED) <= interpret.LOWERED.size
    assert len(formulas.DERIVED) <= formulas.DERIVED.size


def _hand(x1: float, x2: float) -> list[list[float]]:
    x = torch.tensor([x1, x2], dtype=torch.float64)
    f = lambda t: torch.stack([t[0]**2 * t[1] + torch.sin(t[0]), torch.abs(t[0] - t[1])])
    return torch.autograd.functional.jacobian(f, x).tolist()


def test_the_symbolic_jacobian_is_derived_once_and_substituted_per_point(monkeypatch):
    first = jacli.jacobian(SOURCE, at="0.5,2")
    derivations = []
    differentiate = formulas.jacobian
    monkeypatch.setattr(formulas, "jacobian",
                        lambda *a: derivations.append(1) or differentiate(*a))
    second = jacli.jacobian(SOURCE, at="1,1")
    assert derivations == []  # found, not derived again
    jacli.jacobian(SOURCE + ", x1", at="1,1")
    assert derivations == [1]  # another program is derived
    assert first.jacobian.symbolic == second.jacobian.symbolic
    assert first.jacobian.numeric == _hand(0.5, 2) and second.jacobian.numeric == _hand(1, 1)
    assert first.jacobian.exact[0][1] == "1/4" and second.jacobian.exact[0][1] == "1"
    assert first.check.agree and second.check.agree


def test_notices_belong_to_their_own_request():
    on_kink = jacli.jacobian(SOURCE, at="1,1")
    off_kink = jacli.jacobian(SOURCE, at="1,2")
    assert any("abs at 0" in n for n in on_kink.notices)
    assert not any("abs at 0" in n for n in off_kink.notices)
    assert jacli.jacobian(SOURCE, at="1,1").notices == on_kink.notices


def test_a_programs_structural_notices_are_its_own_at_every_point():
    """Which outputs depend on no input (SymPy's zeros: the formulas') is found once per
    program and kept with its derivation: the same at every point, and never another's."""
    said = ["output y[1] does not depend on any input", "no output depends on x2"]
    for point in ("1,2", "3,4", "5,6"):
        assert [n for n in jacli.jacobian("x1**2, 3", at=point, vars="x1,x2").notices
                if "depend" in n] == said
        assert not any("depend" in n for n in jacli.jacobian("x1*x2, x2", at=point).notices)


def test_the_exact_value_of_a_typed_decimal_survives_the_caches():
    for point in ("0.1,2", "0.1,2"):
        r = jacli.jacobian("x1**2*x2, x2", at=point)
        assert r.jacobian.exact[0] == [str(2 * Fraction(1, 10) * 2), str(Fraction(1, 100))]


def test_batch_answers_of_a_repeated_program_are_those_of_fresh_requests():
    lines = [json.dumps({"command": "vjp", "expr": SOURCE, "at": f"{a},{b}", "v": "1,2",
                         "id": i}) for i, (a, b) in enumerate([(0.5, 2), (1, 3), (0.5, 2)])]
    answers = [answer(line) for line in lines]
    assert [a["id"] for a in answers] == [0, 1, 2]
    assert answers[0] == {**answers[2], "id": 0}
    for a, (x1, x2) in zip(answers, [(0.5, 2), (1, 3), (0.5, 2)]):
        J = _hand(x1, x2)
        assert a["vjp"]["numeric"] == pytest.approx([J[0][j] + 2 * J[1][j] for j in range(2)],
                                                    rel=1e-15)


def test_a_repeated_programs_strategy_follows_each_requests_mode():
    """The AD mode chosen for a program seen before is remembered by the mode requested: a
    request for another mode gets that mode, and the next auto request auto's choice."""
    def strategy(mode, a):
        return answer(json.dumps({"command": "jacobian", "expr": "x1**2 + 2*x2, x1*x2",
                                  "at": f"{a},2", "mode": mode}))["strategy_short"]

    auto = [strategy("auto", a) for a in (0.5, 0.25)]
    assert auto[0] == auto[1] and auto[0].startswith("reverse mode")
    assert strategy("fwd", 0.75).startswith("forward mode")
    assert strategy("rev", 0.125).startswith("reverse mode")
    assert strategy("fwd", 1.5).startswith("forward mode")
    assert strategy("auto", 1.25) == auto[0]


def test_a_repeated_small_program_looks_no_lanes_plan_up(monkeypatch):
    """A small system runs as written (no lanes plan); once its answer is kept, its later
    requests do not look a plan up at all, and their numbers are the program's."""
    from jacli.analysis import autograd as ag

    calls, asked, found = [], [], []
    real = ag.in_lanes
    monkeypatch.setattr(ag, "in_lanes", lambda *a: calls.append(1) or real(*a))
    for a in (0.5, 0.25, 0.125, 0.0625):
        found.append(jacli.jacobian("x1**3 + 2*x2, x2*x1", at=f"{a},2", symbolic="never"))
        asked.append(len(calls))  # (a program no other test asks for: unseen at first)
    assert asked[0] > 0 and asked[-1] == asked[-2] == asked[-3]
    assert [r.jacobian.numeric.tolist() for r in found] == [[[3 * a * a, 2.0], [2.0, a]]
                                                            for a in (0.5, 0.25, 0.125, 0.0625)]
    assert all(r.strategy == found[0].strategy for r in found)


def _vjp_by_hand(v: list[float]) -> list[float]:
    x = torch.tensor([0.5, -1.25], dtype=torch.float64, requires_grad=True)
    (torch.tanh(x) * x[0]).backward(torch.tensor(v, dtype=torch.float64))
    return x.grad.tolist()


def test_programs_alike_but_for_backwards_v_share_one_derivation(monkeypatch):
    """A script's events replayed one by one differ only in v: J is derived once."""
    program = ("x = torch.tensor([0.5, -1.25], requires_grad=True)\n"
               "y = torch.tanh(x) * x[0]\ny.backward(torch.tensor({v}))")
    derivations = []
    differentiate = formulas.jacobian
    monkeypatch.setattr(formulas, "jacobian",
                        lambda *a: derivations.append(1) or differentiate(*a))
    first = jacli.vjp(program.format(v="[1.0, 0.0]"))
    second = jacli.vjp(program.format(v="[0.0, 1.0]"))
    assert derivations == [1]
    assert first.jacobian.symbolic == second.jacobian.symbolic
    assert first.vjp.numeric == pytest.approx(_vjp_by_hand([1.0, 0.0]), rel=1e-15)
    assert second.vjp.numeric == pytest.approx(_vjp_by_hand([0.0, 1.0]), rel=1e-15)
    assert first.vjp.exact != second.vjp.exact and first.check.agree and second.check.agree
    jacli.vjp(program.format(v="[0.0, 1.0]").replace("x[0]", "x[1]"))
    assert derivations == [1, 1]  # another forward computation: derived anew


def test_alike_means_the_exact_static_values_too(monkeypatch):
    """``0.1`` and ``0.1000000000000000000001`` are one float but two exact slopes: their
    formulas must not be shared (``ir.Real`` equals its float)."""
    slope = "0.1000000000000000000001"
    coarse = jacli.jacobian("F.leaky_relu(x, 0.1)", at="x=[-1.0]")
    fine = jacli.jacobian(f"F.leaky_relu(x, {slope})", at="x=[-1.0]")
    assert coarse.jacobian.exact == [["1/10"]]
    assert fine.jacobian.exact == [[str(Fraction(slope))]]
