"""The ``--at`` / ``--v`` / ``--u`` grammar (``request.values``) and the ``--at-file`` reader
(``request.points``), tested directly: exact numbers, shapes, names and binding, whitespace,
size limits, refused text (with its exception class and column), many points, JSON Lines and
CSV. No CLI and no torch: the grammar is pure text to ``Fraction``."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from jacli.bounds import Limits
from jacli.errors import ExitCode, JacliError, LimitError, ShapeError, ValueInputError
from jacli.request import points as points_module
from jacli.request.points import read_points
from jacli.request.binding import bind, names_text
from jacli.request.values import flatten, parse_point, parse_points, parse_vector, shape_of

F = Fraction


def one(text: str):
    """The single positional value of ``--at text``."""
    named, positional = parse_point([text])
    assert named == {} and len(positional) == 1
    return positional[0]


def refused(cls, fn, *args, **kwargs) -> JacliError:
    """``fn(*args)`` raises exactly ``cls`` (not a subclass, not a bare Python error)."""
    with pytest.raises(JacliError) as info:
        fn(*args, **kwargs)
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    return info.value


# -- numbers: exact Fractions --------------------------------------------------------------

@pytest.mark.parametrize("text, exact", [
    ("12", F(12)),
    ("0.1", F(1, 10)),          # exactly one tenth, not float's 0.1000000000000000055…
    ("1.", F(1)),
    (".5", F(1, 2)),
    ("+.5", F(1, 2)),
    ("-2.5e-3", F(-1, 400)),
    ("1e+5", F(100_000)),
    ("1E5", F(100_000)),
    ("1/3", F(1, 3)),
    ("-1/3", F(-1, 3)),
    ("1.5/4.5", F(1, 3)),
    ("2e3/3", F(2000, 3)),
    ("-0", F(0)),
])
def test_numbers_are_read_exactly(text, exact):
    value = one(text)
    assert type(value) is Fraction and value == exact


def test_a_decimal_is_not_its_float():
    assert one("0.1") + one("0.2") == one("0.3")  # false in float64: exactness is the point
    assert one("0.1") != Fraction(0.1)


def test_many_significant_digits_are_kept():
    digits = "3.14159265358979323846264338327950288419716939937510"
    assert one(digits) == Fraction(digits)
    assert one(digits) != Fraction(float(digits))  # float64 would have dropped them


@pytest.mark.parametrize("text", ["1e308", "-1e308", "1e-300", "1e-400", "0." + "0" * 500 + "1"])
def test_huge_and_tiny_magnitudes_in_range_are_kept_exactly(text):
    assert one(text) == Fraction(text)


@pytest.mark.parametrize("text", ["2e308", "-2e308", "1e401", "1" + "0" * 400,
                                  "9" * 4000, "1e99999"])
def test_magnitudes_past_float64_are_refused(text):
    err = refused(ValueInputError, parse_point, [text])
    assert "float64" in err.message and err.where == "--at"


@pytest.mark.parametrize("text", ["1/0", "-1/0.0", "0/0", "x=[1,1/.0]"])
def test_division_by_zero_is_refused(text):
    err = refused(ValueInputError, parse_point, [text])
    assert err.hint and "finite" in err.hint


@pytest.mark.parametrize("text", ["x=nan", "[inf]", "x=Infinity"])
def test_non_finite_words_are_refused_saying_the_point_must_be_finite(text):
    err = refused(ValueInputError, parse_point, [text])
    assert "finite" in err.message


@pytest.mark.parametrize("text", ["x=-inf", "-inf", "nan", "1,inf", "+Infinity", "-NaN",
                                  "x=INF", "[1,-inf]", "1, nan", "y=1,iNf"])
def test_every_non_finite_spelling_says_the_point_must_be_finite(text):
    err = refused(ValueInputError, parse_point, [text])
    assert "finite" in err.message or "finite" in (err.hint or "")


def test_non_finite_words_in_vectors_and_a_name_called_inf():
    err = refused(ValueInputError, parse_vector, "1,-Infinity", "--v")
    assert "finite" in err.message and err.message.startswith("--v") and err.column == 3
    assert parse_point(["inf=1"]) == ({"inf": F(1)}, [])  # a name, left to bind to judge


@pytest.mark.parametrize("text", ["0x10", "1_000", "--1", "+-1", "-1/-3", "1/3/4", "1e", "1e5e2",
                                  "1..2", "1 2", "1 .5", "- 1", "1,2,#", "$1", "1;2", "(1,2)"])
def test_junk_numbers_are_refused_as_value_input(text):
    err = refused(ValueInputError, parse_point, [text])
    assert err.source == text and err.line == 1
    assert 1 <= err.column <= len(text) + 1


def test_the_column_points_at_the_culprit():
    err = refused(ValueInputError, parse_point, ["1, 2, #"])
    assert err.column == 7  # 1-based, at '#'
    err = refused(ValueInputError, parse_vector, "[1,2]x", "--u")
    assert err.column == 6 and err.where == "--u" and err.message.startswith("--u")


def test_a_bad_number_gets_a_hint_with_examples():
    err = refused(ValueInputError, parse_point, ["x=abc"])
    assert err.hint and "1/3" in err.hint  # the hint shows the accepted spellings


def test_a_fraction_denominator_may_have_an_exponent_as_the_grammar_says():
    assert one("1/2e3") == Fraction(1, 2000)


@pytest.mark.parametrize("text", ["1" * 5000, "0." + "1" * 5000, "1e" + "9" * 5000])
def test_a_number_with_thousands_of_digits_is_a_clean_refusal(text):
    with pytest.raises(JacliError):
        parse_point([text])


def test_one_number_gets_one_verdict_whatever_its_spelling():
    assert one("1e-401") == one("0." + "0" * 400 + "1")


@pytest.mark.parametrize("text, exact", [
    ("1e2/1e-2", F(10_000)), ("1/1e400", F(1, 10**400)), ("1e400/1e400", F(1)),
    ("0e99999999999999999999999", F(0)), ("-0.000e-999999999", F(0)),
    ("1e-2000", F(1, 10**2000)), ("0.0120e1", F(3, 25)),
])
def test_the_verdict_is_the_values_not_the_parts(text, exact):
    assert one(text) == exact


@pytest.mark.parametrize("text", ["0." + "1" * 5000, "1." + "2" * 400 + "e5"])
def test_too_many_significant_digits_is_a_limit_error_naming_the_limit(text):
    err = refused(LimitError, parse_point, [text])
    assert err.exit_code == ExitCode.LIMIT and err.message.startswith("--at")
    assert "400" in err.message and err.column == 1
    assert len(err.message) < 200  # the number is not echoed in full


def test_leading_and_trailing_zeros_are_not_significant_digits():
    assert one("0." + "0" * 3000 + "5" + "e2900") == F(5, 10**101)
    assert one("7" + "0" * 300) == 7 * 10**300


@pytest.mark.parametrize("text", ["1e-2001", "1e-999999999", "1e-" + "9" * 5000,
                                  "1e-1000/1e1500"])
def test_values_below_the_tiny_bound_are_a_limit_error_without_big_integers(text):
    err = refused(LimitError, parse_point, [text])
    assert "1e-2000" in err.message and "0" in err.hint


@pytest.mark.parametrize("text", ["1e" + "9" * 5000, "9" * 5000, "1/1e-400"])
def test_huge_spellings_are_past_float64(text):
    err = refused(ValueInputError, parse_point, [text])
    assert "float64" in err.message


def test_a_fraction_of_huge_powers_of_ten_is_a_limit_error():
    err = refused(LimitError, parse_point, ["1e5000/1e5000"])
    assert "power of ten" in err.message


# -- nesting and shapes --------------------------------------------------------------------

def test_nested_lists_keep_their_structure():
    assert parse_vector("[[1,0.1],[0.01,0.001]]") == [[F(1), F(1, 10)], [F(1, 100), F(1, 1000)]]
    assert one("[[[7]]]") == [[[F(7)]]]


@pytest.mark.parametrize("value, shape", [
    (F(3), ()),
    ([F(1), F(2), F(3)], (3,)),
    ([[F(1), F(2), F(3)], [F(4), F(5), F(6)]], (2, 3)),
    ([[[F(1)]], [[F(2)]]], (2, 1, 1)),
])
def test_shape_of(value, shape):
    assert shape_of(value) == shape


@pytest.mark.parametrize("text", ["[[1,2],[3]]", "[1,[2]]", "[[1],2]", "[[[1],[2]],[[1,2]]]"])
def test_ragged_lists_are_a_shape_error_naming_where(text):
    err = refused(ShapeError, shape_of, one(text), "--at x")
    assert err.message.startswith("--at x") and err.hint


@pytest.mark.parametrize("text", ["[]", "x=[]", "[[],[]]", "[1,]", "[,1]", "[1,2", "[1]]", "]"])
def test_empty_and_unbalanced_lists_are_refused(text):
    refused(ValueInputError, parse_point, [text])


def test_a_row_that_is_an_empty_list_is_ragged():
    with pytest.raises(ShapeError):
        shape_of([[F(1)], []])


@pytest.mark.parametrize("value", [[], [[F(1)], []], [[], []]])
def test_an_empty_list_is_a_shape_error_saying_variables_need_elements(value):
    err = refused(ShapeError, shape_of, value, "--at x")
    assert "empty" in err.message and "elements" in err.hint


def test_flatten_is_row_major():
    value = one("[[1,2,3],[4,5,6]]")
    assert flatten(value) == [F(k) for k in range(1, 7)]
    assert flatten([[[F(1), F(2)]], [[F(3), F(4)]]]) == [F(1), F(2), F(3), F(4)]
    assert flatten(F(5)) == [F(5)]


def test_nesting_up_to_the_limit_is_read():
    assert flatten(one("[" * 32 + "1" + "]" * 32)) == [F(1)]


def test_nesting_past_the_limit_is_a_limit_error():
    err = refused(LimitError, parse_point, ["[" * 33 + "1" + "]" * 33])
    assert err.exit_code == ExitCode.LIMIT and err.column is not None


def test_very_deep_nesting_fails_fast_without_recursion_error():
    refused(LimitError, parse_vector, "[" * 100_000)


# -- names and binding ---------------------------------------------------------------------

def test_named_values():
    named, positional = parse_point(["x=[1,2], y = -3, w_2=1/3"])
    assert positional == []
    assert named == {"x": [F(1), F(2)], "y": F(-3), "w_2": F(1, 3)}
    assert list(named) == ["x", "y", "w_2"]  # in the order given


def test_several_at_options_add_up():
    assert parse_point(["1,2", "[3,4]"]) == ({}, [F(1), F(2), [F(3), F(4)]])
    assert parse_point(["x=1", "_y=2"]) == ({"x": F(1), "_y": F(2)}, [])


@pytest.mark.parametrize("texts", [["x=1,x=2"], ["x=1", "x=2"], ["x=1,y=2,x=1"]])
def test_a_name_given_twice_is_refused(texts):
    err = refused(ValueInputError, parse_point, texts)
    assert "'x'" in err.message


@pytest.mark.parametrize("texts", [["x=1,2"], ["1", "y=2"]])
def test_named_and_positional_values_do_not_mix(texts):
    refused(ValueInputError, parse_point, texts)


@pytest.mark.parametrize("text", ["=1", "x=", "x==1", "1x=2", "x=y=1", "x=[1,2]=3", "x"])
def test_malformed_names_are_refused(text):
    refused(ValueInputError, parse_point, [text])


def test_bind_positional_values_in_variable_order():
    assert bind(("x1", "x2"), {}, [F(1), F(2)], {}) == {"x1": F(1), "x2": F(2)}


def test_bind_named_values_come_back_in_variable_order():
    point = bind(("a", "b", "c"), {"c": F(3), "a": F(1), "b": F(2)}, [], {})
    assert list(point) == ["a", "b", "c"] and point["c"] == F(3)


def test_bind_positional_values_fill_only_the_undeclared_variables():
    # W is declared in the program: one positional value goes to x
    assert bind(("W", "x"), {}, [F(5)], {"W": F(9)}) == {"W": F(9), "x": F(5)}
    # one value per variable overrides the declaration too
    assert bind(("W", "x"), {}, [F(1), F(2)], {"W": F(9)}) == {"W": F(1), "x": F(2)}


def test_bind_at_overrides_a_declared_value():
    assert bind(("W", "x"), {"W": F(7)}, [], {"W": F(9), "x": F(1)}) == {"W": F(7), "x": F(1)}


def test_bind_refuses_an_unknown_name_and_suggests_a_close_one():
    err = refused(ValueInputError, bind, ("x1", "x2"), {"x3": F(1)}, [], {})
    assert "'x3'" in err.message and "x1" in err.hint
    err = refused(ValueInputError, bind, ("alpha", "x"), {"alpah": F(1)}, [], {})
    assert "'alpha'" in err.hint  # did you mean


def test_bind_refuses_the_wrong_number_of_positional_values():
    for values in ([F(1)], [F(1), F(2), F(3)]):
        err = refused(ValueInputError, bind, ("x", "y"), {}, values, {})
        assert str(len(values)) in err.message


def test_bind_names_the_missing_variables():
    err = refused(ValueInputError, bind, ("x", "y", "z"), {"x": F(1)}, [], {})
    assert "y, z" in err.message and "y=" in err.hint  # the hint shows how to give one


def test_names_text_shortens_long_lists():
    assert names_text(["x1", "x2", "x3"]) == "x1, x2, x3"
    long = names_text([f"x{i}" for i in range(1, 201)])
    assert long.startswith("x1, x2") and "x200" in long and "200 names" in long
    assert "x100" not in long


# -- whitespace ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1,2", " 1 , 2 ", "\t1,\t2\t", "  1,2  "])
def test_spaces_and_tabs_around_items_are_ignored(text):
    assert parse_point([text]) == ({}, [F(1), F(2)])


def test_spaces_inside_brackets_and_around_equals_are_ignored():
    assert parse_point([" x = [ 1 , 2 ] "]) == ({"x": [F(1), F(2)]}, [])
    assert parse_vector("[ [1 ,2] , [3, 4 ] ]") == [[F(1), F(2)], [F(3), F(4)]]


@pytest.mark.parametrize("text", ["", " ", "\t  "])
def test_an_empty_value_is_refused(text):
    err = refused(ValueInputError, parse_vector, text, "--v")
    assert err.hint  # says what a value looks like


@pytest.mark.parametrize("text", ["1,,2", "1,", ",1", "1, ,2"])
def test_empty_items_are_refused(text):
    refused(ValueInputError, parse_point, [text])


# -- non-ASCII and control characters ------------------------------------------------------

@pytest.mark.parametrize("text, column, code", [
    ("1,\u22121", 3, "U+2212"),   # a typographic minus
    ("\uff11", 1, "U+FF11"),      # a full-width digit
    ("1\u00a02", 2, "U+00A0"),    # a no-break space
    ("1,\n2", 3, "U+000A"),       # a newline is not whitespace here
    ("x=\x00", 3, "U+0000"),
    ("x\u2081=1", 2, "U+2081"),   # a subscript one in a name
])
def test_non_ascii_is_refused_at_its_column(text, column, code):
    err = refused(ValueInputError, parse_point, [text])
    assert err.column == column and code in err.message and err.hint


# -- size limits ---------------------------------------------------------------------------

def test_the_character_limit_is_inclusive_and_a_limit_error():
    limits = Limits(value_chars=5)
    assert parse_vector("1,2,3", limits=limits) == [F(1), F(2), F(3)]
    err = refused(LimitError, parse_vector, "1,2,34", "--v", limits)
    assert err.exit_code == ExitCode.LIMIT and "5" in err.message


def test_the_character_limit_is_checked_before_reading():
    # 10 characters of junk over the limit: a LimitError, not a complaint about the junk
    refused(LimitError, parse_point, ["\u2212" * 10], Limits(value_chars=9))


def test_the_number_count_limit():
    limits = Limits(tensor_elements=4)
    assert flatten(parse_vector("[[1,2],[3,4]]", limits=limits)) == [F(1), F(2), F(3), F(4)]
    refused(LimitError, parse_vector, "[[1,2],[3,4]],5", "--v", limits)
    refused(LimitError, parse_point, ["x=[1,2,3,4,5]"], limits)


def test_the_default_limits_read_a_large_value_quickly():
    text = "[" + ",".join(["0.5"] * 20_000) + "]"
    assert len(parse_vector(text)) == 20_000


# -- several values per variable: many points ----------------------------------------------

def test_repeated_variables_make_points():
    assert parse_points(["x=1", "x=2", "y=0"]) == [{"x": F(1), "y": F(0)},
                                                   {"x": F(2), "y": F(0)}]


def test_point_i_takes_the_ith_value_of_each_repeated_variable():
    points = parse_points(["x=1,y=[1,2]", "x=3,y=[3,4]", "z=1/3"])
    assert points == [{"x": F(1), "y": [F(1), F(2)], "z": F(1, 3)},
                      {"x": F(3), "y": [F(3), F(4)], "z": F(1, 3)}]


@pytest.mark.parametrize("texts", [["x=1"], ["x=1", "y=2"], ["1", "2"], ["x=1,x=2"],
                                   ["x=1", "x=2", "3"]])
def test_no_repeated_variable_across_options_is_one_point(texts):
    assert parse_points(texts) is None


def test_repeated_variables_need_the_same_number_of_values():
    err = refused(ValueInputError, parse_points, ["x=1", "x=2", "y=1", "y=2", "y=3"])
    assert "x 2" in err.message and "y 3" in err.message


def test_a_bad_value_among_many_points_is_refused():
    refused(ValueInputError, parse_points, ["x=1", "x=nan"])
    refused(LimitError, parse_points, ["x=[1,2,3]", "x=1"], Limits(tensor_elements=2))


# -- point files: JSON Lines ---------------------------------------------------------------

def test_jsonl_points_read_exactly_and_as_floats():
    pts = read_points('{"x": 0.1, "y": [1, 2]}\n\n{"x": 2, "y": [3, 4.5]}\n', "--at-file")
    assert len(pts) == 2 and pts.names() == ["x", "y"]
    assert pts.exact(0) == {"x": F(1, 10), "y": [F(1), F(2)]}
    assert pts.exact(1)["y"] == [F(3), F(9, 2)]
    assert pts.column("x", ()) == [0.1, 2.0]
    assert pts.column("y", (2,)) == [[1, 2], [3, 4.5]]


TRICKY = ["0.1", "2.5e-308", "9007199254740993", "1.7976931348623157e308", "4.9e-324",
          "0.30000000000000004", "123456789.123456789e-5", "-7e22"]


def test_jsonl_floats_round_as_the_exact_reading_does():
    text = "".join(f'{{"x": {t}}}\n' for t in TRICKY)
    pts = read_points(text, "--at-file")
    # JSON integers stay ints (exact); each number becomes the float its exact value rounds to
    assert [float(v) for v in pts.column("x", ())] == \
        [float(pts.exact(i)["x"]) for i in range(len(TRICKY))]
    assert [pts.exact(i)["x"] for i in range(len(TRICKY))] == [Fraction(t) for t in TRICKY]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_jsonl_non_finite_constants_are_refused_naming_the_line(token):
    # the blank line counts: the number is the file's line, as an editor shows it
    err = refused(ValueInputError, read_points, f'{{"x": 1}}\n\n{{"x": {token}}}\n',
                  "--at-file")
    assert err.line == 3 and "line 3" in err.message


@pytest.mark.parametrize("second", ["not json", "[1, 2]", '{"x": 1', '{"x": 1} {"x": 2}'])
def test_jsonl_bad_lines_are_refused_naming_the_line(second):
    err = refused(ValueInputError, read_points, '{"x": 1}\n' + second + "\n", "--at-file")
    assert err.line == 2


@pytest.mark.parametrize("bad", ['"2"', "true", "null", '[1, "a"]', '{"y": 1}'])
def test_jsonl_values_that_are_not_numbers_are_refused_by_column(bad):
    pts = read_points(f'{{"x": 1}}\n{{"x": {bad}}}\n', "--at-file")
    err = refused(ValueInputError, pts.column, "x", ())
    assert "point 2" in err.message


def test_jsonl_wrong_shapes_are_a_shape_error_naming_the_point():
    pts = read_points('{"x": [1, 2]}\n{"x": [1, 2]}\n{"x": [1, 2, 3]}\n', "--at-file")
    err = refused(ShapeError, pts.column, "x", (2,))
    assert "point 3" in err.message
    ragged = read_points('{"x": [[1, 2], [3]]}\n', "--at-file")
    refused(ShapeError, ragged.column, "x", (2, 2))


def test_jsonl_an_empty_list_is_a_clean_refusal():
    pts = read_points('{"x": [1]}\n{"x": []}\n', "--at-file")
    with pytest.raises(JacliError):
        pts.column("x", (1,))


@pytest.mark.parametrize("text, cls", [
    ('{"x": 1}\n{"x": 1e-999999999}\n', LimitError),
    ('{"x": 1}\n{"x": 0.' + "1" * 5000 + '}\n', LimitError),
    ("x\n1\n-1e-999999999\n", LimitError),
    ("x\n1\n0." + "1" * 5000 + "\n", LimitError),
])
def test_odd_numbers_in_a_points_file_are_refused_quickly_when_read_exactly(text, cls):
    pts = read_points(text, "--at-file")  # a float reading takes them; the exact one refuses
    err = refused(cls, lambda: [pts.exact(i) for i in range(len(pts))])
    assert err.message.startswith("--at-file") and "2" in err.message


@pytest.mark.parametrize("text, cls, needle", [
    ("x,y\n1/3,1\n1,1e-5000\n", LimitError, "1e-2000"),
    ('{"x": 1}\n\n{"x": ' + "1" * 5000 + '}\n', ValueInputError, "float64"),
])
def test_an_odd_number_on_the_exact_path_names_its_line(text, cls, needle):
    err = refused(cls, read_points, text, "--at-file")
    assert err.line == 3 and "line 3" in err.message and needle in err.message


def test_jsonl_missing_and_unknown_names():
    pts = read_points('{"x": 1, "y": 2}\n{"x": 1}\n', "--at-file")
    err = refused(ValueInputError, pts.column, "y", ())
    assert "point 2" in err.message and "'y'" in err.message
    err = refused(ValueInputError, pts.check_names, ("x",))
    assert "'y'" in err.message


# -- point files: CSV ----------------------------------------------------------------------

def test_csv_points_read_exactly_and_as_floats():
    pts = read_points(" x , y\n1, 0.1\n\n-2,1e-3\n", "--at-file")
    assert len(pts) == 2 and pts.names() == ["x", "y"]
    assert pts.exact(0) == {"x": F(1), "y": F(1, 10)}
    assert pts.exact(1) == {"x": F(-2), "y": F(1, 1000)}
    assert pts.column("y", ()) == [0.1, 0.001]


def test_csv_floats_round_as_the_exact_reading_does():
    pts = read_points("x\n" + "\n".join(TRICKY) + "\n", "--at-file")
    assert pts.column("x", ()) == [float(pts.exact(i)["x"]) for i in range(len(TRICKY))]


def test_csv_fractions_are_read_by_the_exact_reader():
    pts = read_points("x,y\n1/3,2\n", "--at-file")
    assert pts.exact(0) == {"x": F(1, 3), "y": F(2)}
    assert pts.column("x", ()) == [1 / 3]


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_csv_non_finite_numbers_are_refused_naming_the_line(cell):
    err = refused(ValueInputError, read_points, f"x,y\n1,2\n3,{cell}\n", "--at-file")
    assert err.line == 3


@pytest.mark.parametrize("row", ["1,2,3", "1", "1,abc", "1,0x1", "1,[1]"])
def test_csv_bad_rows_are_refused_naming_the_line(row):
    err = refused(ValueInputError, read_points, f"x,y\n1,2\n{row}\n", "--at-file")
    assert err.line == 3 and "line 3" in err.message


@pytest.mark.parametrize("text", ["", "\n\n", "x,y\n", "   \n"])
def test_a_file_without_points_is_refused(text):
    refused(ValueInputError, read_points, text, "--at-file")


def test_too_many_points_is_a_limit_error(monkeypatch):
    monkeypatch.setattr(points_module, "MAX_POINTS", 2)
    assert len(read_points("x\n1\n2\n", "--at-file")) == 2
    refused(LimitError, read_points, "x\n1\n2\n3\n", "--at-file")
    refused(LimitError, read_points, '{"x": 1}\n{"x": 2}\n{"x": 3}\n', "--at-file")


# -- no torch ------------------------------------------------------------------------------

def test_reading_values_and_points_imports_no_torch():
    code = ("import sys; import jacli.request.values as v, jacli.request.points as p; "
            "v.parse_point(['x=[1,2]']); p.read_points('x\\n1\\n', 'f'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_plain_decimal_reads_as_fraction_reads_it():
    """``lazy.decimal`` (a batch request's exact point) is ``Fraction(token)`` for every JSON
    number text the fast reader passes: signs, fractions, exponents of up to 3 digits."""
    import random

    from jacli.request.lazy import decimal

    rng = random.Random(11)
    for _ in range(3000):
        whole = rng.choice(["0", str(rng.randrange(1, 10 ** rng.randrange(1, 20)))])
        token = rng.choice(["", "-"]) + whole
        if rng.random() < 0.7:
            token += "." + str(rng.randrange(10 ** rng.randrange(1, 25))).zfill(rng.randrange(1, 8))
        if rng.random() < 0.4:
            token += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randrange(1000))
        assert decimal(token) == Fraction(token), token


def test_a_few_plain_numbers_read_as_the_general_reader_reads_them(monkeypatch):
    """``0.513, 2e-3`` (a small request's point) is split, not decoded item by item: the
    same items (value as a float, the number's own text), and the same refusals, as the
    general reader, on random texts of numbers, blanks and near misses."""
    import random
    import re

    from jacli.request import lazy

    rng = random.Random(4)
    pieces = ["0", "-0", "7", "12", "0.5", "-3.25", "1e5", "2E-3", "1e+005", "1e0005", "01",
              "1.", ".5", "-", "1" * 40, "1" * 41, "0." + "9" * 40, "0." + "9" * 41, "nan",
              "1e", "+1", "--1", "x=1", "[1]", "1_0", "١", "0x1"]

    def text() -> str:
        items = [rng.choice(pieces) for _ in range(rng.randint(1, 4))]
        blank = lambda: rng.choice(["", "", " ", "\t", "  "])  # noqa: E731
        return ",".join(blank() + item + blank() for item in items) + rng.choice(["", "", ","])

    def general(t: str):
        with monkeypatch.context() as m:
            m.setattr(lazy, "_NUMBERS", re.compile(r"(?!)"))  # never matches
            return lazy._items(t, 400)

    fast = 0
    for _ in range(3000):
        t = text()
        want, got = general(t), lazy._items(t, 400)
        if lazy._NUMBERS.fullmatch(t) is None:  # (the general reader itself)
            continue
        fast += 1
        assert want is not None and [(n, float(v), tok) for n, v, tok in want] == got, t
        assert [lazy._numbers(v) for _, v, _ in want] == [lazy._numbers(v) for _, v, _ in got]
    assert fast > 300  # the split path was taken
