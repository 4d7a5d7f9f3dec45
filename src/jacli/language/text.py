"""Source hygiene: everything checked on the raw text before Python's parser sees it, and
what its parser says turned into ours (a ``SyntaxError``'s column and hint, the tree's size).

Owns: BOM and line-ending normalisation, the size limit, refusing NUL and non-ASCII
characters (with a hint naming the ASCII the user probably meant), long number literals,
nesting depth, and ``^`` as power. Python's parser would silently read ``^`` as XOR with
the wrong precedence (``x^2 + 1`` is ``x ^ 3``), so ``^`` becomes ``**`` here, and the
``ColumnMap`` maps error columns back to what the user typed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from dataclasses import dataclass, field

from jacli.errors import LimitError, ParseError
from jacli.bounds import Limits

# Characters people paste from papers and chat, and what they meant.
_LOOKALIKES = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "*", "\u22c5": "*", "\u00b7": "*",
    "\u2219": "*", "\u00f7": "/", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u00b2": "**2", "\u00b3": "**3", "\u00b9": "**1", "\u03c0": "pi",
}
_INVISIBLE = {"Cf", "Zs", "Zl", "Zp", "Cc"}  # format (zero-width, bidi), odd spaces, controls
_DIGIT_RUN = re.compile(r"\d+")


@dataclass
class ColumnMap:
    """Maps a column of the rewritten text back to the original: per line, the rewritten
    columns (0-based) where a one-character ``^`` became the two-character ``**``."""

    grown: dict[int, list[int]] = field(default_factory=dict)

    def original(self, line: int, column0: int) -> int:
        """1-based original column for a 0-based column of the rewritten ``line``."""
        shift = sum(1 for c in self.grown.get(line, ()) if c < column0)
        return column0 - shift + 1


def clean(text: str, limits: Limits) -> tuple[str, ColumnMap]:
    """Normalise and check raw program text; return the text for ``ast.parse`` and its map.

    Raises ``ParseError`` for characters outside the language, ``LimitError`` for oversize.
    """
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM from Windows editors is noise, not content
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > limits.source_chars:
        raise LimitError(
            f"the program is {len(text)} characters long; the limit is {limits.source_chars}",
            hint="jacli reads short formulas and snippets; put large systems in a file of "
            "tensor expressions (x @ W) rather than spelling out every entry",
        )
    if not text.strip():
        raise ParseError("the expression is empty", hint='give a formula, e.g. "x1**2 + 2*x2"')
    _refuse_characters(text)
    _check_numbers(text, limits)
    _check_nesting(text, limits)
    return _caret_to_power(text)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _prose_spans(text: str) -> list[tuple[int, int]]:
    """Index ranges of comments and string literals: pasted tutorials write comments (and
    print() strings) in any language, and those never reach the program. ``tokenize`` is
    only a lexer; it runs nothing. If it cannot lex the text, no span is exempt."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    spans = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                (l1, c1), (l2, c2) = tok.start, tok.end
                spans.append((starts[l1 - 1] + c1, starts[l2 - 1] + c2))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return []
    return spans


def _refuse_characters(text: str) -> None:
    if "\x00" not in text and not text.isascii():
        prose = _prose_spans(text)
    else:
        prose = []
    for i, ch in enumerate(text):
        if ch == "\n" or (" " <= ch <= "~") or ch == "\t":
            continue
        if ch != "\x00" and any(a <= i < b for a, b in prose):
            continue
        line, column = _position(text, i)
        raise ParseError(
            f"character {_describe(ch)} is not allowed",
            hint=_hint_for(ch), line=line, column=column, source=text, where="expression",
        )


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, None)
    code = f"U+{ord(ch):04X}"
    if ch == "\x00":
        return f"NUL ({code})"
    return f"{code} {name}" if name else code


def _hint_for(ch: str) -> str:
    if ch in _LOOKALIKES:
        return f"write {_LOOKALIKES[ch]!r} instead"
    if unicodedata.category(ch) in _INVISIBLE:
        return "it is invisible (zero-width, direction or control character): delete it"
    ascii_form = unicodedata.normalize("NFKC", ch)
    if ascii_form.isascii() and ascii_form.strip():
        return f"it looks like {ascii_form!r}; jacli reads plain ASCII only, so type {ascii_form!r}"
    return "jacli reads plain ASCII only: names are letters, digits and _, e.g. x1, a, w_2"


def _check_numbers(text: str, limits: Limits) -> None:
    for m in _DIGIT_RUN.finditer(text):
        if len(m.group()) > limits.digits:
            line, column = _position(text, m.start())
            raise LimitError(
                f"a number with {len(m.group())} digits; the limit is {limits.digits}",
                hint="float64 holds about 16 significant digits; write 1e500-style numbers "
                "only when you mean them", line=line, column=column, source=text,
                where="expression",
            )


def _check_nesting(text: str, limits: Limits) -> None:
    """Bracket depth and runs of unary signs, counted before Python's recursive parser
    runs out of stack on them (it raises MemoryError or RecursionError, not SyntaxError)."""
    depth = run = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch in "+-~":
            run += 1
        elif not ch.isspace():
            run = 0
        if depth > limits.depth or run > limits.depth:
            line, column = _position(text, i)
            what = "brackets nest" if depth > limits.depth else "signs repeat"
            raise LimitError(
                f"{what} more than {limits.depth} deep", line=line, column=column,
                source=text, where="expression",
                hint="simplify the expression; deep nesting is refused before parsing",
            )


def _caret_to_power(text: str) -> tuple[str, ColumnMap]:
    cmap = ColumnMap()
    lines = text.split("\n")
    for n, line in enumerate(lines, start=1):
        if "^" not in line.split("#", 1)[0]:
            continue
        out, grown = [], []
        for ch in line:
            if ch == "^":
                grown.append(sum(len(p) for p in out))
                out.append("**")
            else:
                out.append(ch)
        lines[n - 1] = "".join(out)
        cmap.grown[n] = grown
    return "\n".join(lines), cmap


# -- after Python's parser ------------------------------------------------------------------
def syntax_error(e: SyntaxError, source: str, cmap: ColumnMap) -> ParseError:
    """Python's ``SyntaxError`` as ours: the column in the user's text, and a hint that
    names the likely slip (a missing ``*``, unmatched brackets, an operand missing)."""
    line = e.lineno or 1
    column = cmap.original(line, max((e.offset or 1) - 1, 0))
    msg = (e.msg or "invalid syntax").split(" (")[0]
    text = source.split("\n")[line - 1] if line - 1 < len(source.split("\n")) else ""
    hint = "check the operators and brackets"
    if "decimal literal" in msg or "forgot a comma" in msg or re.search(r"\d[A-Za-z_]|\w \w", text):
        hint = "write * for multiplication (2*x, x*y); separate outputs with commas"
    elif "was never closed" in msg or "unmatched" in msg:
        hint = "the brackets do not match"
    elif column > len(text.rstrip()) or msg.startswith("invalid syntax") and text.rstrip().endswith(
            tuple("+-*/^@,(")):
        hint = "the expression ends early: an operand is missing"
    if "keyword" in msg or re.match(r"\s*(lambda|if|for|while|def|class|import)\b", text[column - 1:]):
        hint = "Python keywords (lambda, if, for, ...) are not names or values in jacli"
    return ParseError(f"syntax error: {msg}", hint=hint, line=line, column=column, source=source,
                      where="expression")


def check_size(module: ast.Module, limits: Limits) -> None:
    """Node count and depth, walked iteratively so a deep tree cannot blow the stack."""
    stack, count = [(module, 0)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.nodes:
            raise LimitError(f"the program has more than {limits.nodes} syntax nodes",
                             hint="jacli reads formulas, not generated code; use tensors (x @ W)")
        if depth > limits.depth:
            raise LimitError(f"the program nests more than {limits.depth} levels deep",
                             line=getattr(node, "lineno", None), hint="simplify the expression")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
