"""The comparison's two ways of judging the real entries agree: ``_reals_small`` (Python
floats, a small request's few entries, with a shortcut for the usual entry) and ``_reals``
(NumPy arrays, past ``SMALL`` entries), on the same entries, odd ones included: infinities
on either side, NaN, values just inside and just outside the tolerance, and the special
kinds SymPy gives (zoo, nan, complex). Also the flat floats of a J, and the strategy's
sentences kept by their arguments' identities."""

from __future__ import annotations

import math
import random

import numpy as np
import sympy as sp
import torch

from jacli.analysis import modes
from jacli.analysis.compare import _reals, _reals_small
from jacli.analysis.entries import Entries, _floats
from jacli.analysis.tolerances import TOLERANCES
from jacli.result import Floats

_EXACT = [sp.Rational(3, 7), sp.Integer(-2), sp.S.Zero, sp.Rational(10**300), sp.oo, -sp.oo,
          sp.zoo, sp.nan, sp.I + 1, sp.Rational(1, 10**320),
          sp.Rational(10**400), -sp.Rational(10**400)]


def _numeric_near(rng: random.Random, e) -> float:
    """A float autograd might give for the exact value ``e``: right, off by a little or a
    lot, or non-finite."""
    x = float(e) if e.is_Rational and abs(e) < 10**308 else 1.0
    rtol, atol = TOLERANCES["float64"]
    return rng.choice([x, x, x * (1 + 0.5 * rtol), x * (1 + 3 * rtol) + 2 * atol, -x, 0.0,
                       math.inf, -math.inf, math.nan, 1e308, x + atol * 0.5])


def _found(rng: random.Random, size: int) -> Entries:
    exprs = [rng.choice(_EXACT) for _ in range(size)]
    numbers = [_numeric_near(rng, e) for e in exprs]
    found = Entries()
    found.add(numbers, exprs, lambda k: f"y[{k}]", True)
    return found.finish()


def test_the_python_and_numpy_judgements_agree_entry_by_entry():
    rng = random.Random(0)
    rtol, atol = TOLERANCES["float64"]
    shortcut = 0
    for _ in range(3000):
        found = _found(rng, rng.randint(1, 12))
        bad, count, finite, worst, _ = _reals_small(found, rtol, atol, "float64")
        want_bad, want_count, want_finite, want_worst, _ = _reals(found, rtol, atol, "float64")
        assert bad == want_bad
        assert count == want_count
        assert finite == np.asarray(want_finite).tolist()
        assert worst == want_worst
        shortcut += sum(finite) - len([i for i in bad if finite[i]])
    assert shortcut > 1000  # the usual entries were among them


def test_an_infinite_exact_value_never_agrees_with_a_finite_number():
    found = Entries()
    huge = sp.Rational(10**400)  # real, past the float range: +inf as a float
    found.add([1e308, math.inf, 5.0], [huge, huge, sp.Integer(5)], str, True)
    bad, count, finite, worst, _ = _reals_small(found.finish(), 1e-9, 1e-12, "float64")
    assert bad == [0] and count == 3 and finite == [False, False, True]
    assert worst == ("2", 0.0)


def test_a_js_floats_flatten_row_major():
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4) / 7
    assert _floats(Floats(t)) == t.reshape(-1).tolist()
    assert _floats([[1, 2], [3.5, 4]]) == [1.0, 2.0, 3.5, 4.0]
    assert _floats([[[1.0], [2.0]], [[3.0], [4.0]]]) == [1.0, 2.0, 3.0, 4.0]
    assert _floats(Floats(torch.tensor([1.5, 2.5], dtype=torch.float64))) == [1.5, 2.5]


def test_sentences_kept_by_identity_are_those_of_their_own_arguments():
    first = modes.choose_mode(2, 2, "auto", warm=True)
    second = modes.choose_mode(2, 2, "fwd", warm=True)
    for _ in range(3):  # the same objects again: the kept sentence
        assert modes.strategy_text(*first) == modes._strategy_text(*first)
        assert modes.strategy_text(*second) == modes._strategy_text(*second)
        assert modes.mode_line(2, 2, first) == modes._mode_line(2, 2, first)
        assert modes.mode_line(3, 2, second) == modes._mode_line(3, 2, second)
    assert modes.strategy_text(*first) != modes.strategy_text(*second)
    again = tuple(first)  # an equal choice, another object: the same sentence
    assert modes.mode_sentence(2, 2, again) == modes.mode_sentence(2, 2, first)
