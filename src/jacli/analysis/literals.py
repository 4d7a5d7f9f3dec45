"""Whether a program's arithmetic meets a number literal: an input of the AD-mode rule
(``modes.choose_mode``), asked once per program."""

from __future__ import annotations

from jacli.runtime.lru import Lru

_LITERAL_FREE = Lru(64)


def literal_free(program) -> bool:
    """Whether no number literal (nor a named constant such as ``pi``) enters the program's
    arithmetic, exponents aside (``x**2`` is fine, ``2*x``, ``x/4``, ``x+1`` are not):
    where ``autograd.functional``'s forward mode was measured fast on scalar systems. Once
    per program (a 300-output walk costs ~2 ms: the API in a loop asks every call)."""
    entry = _LITERAL_FREE.get(id(program))
    if entry is None:  # the program is kept beside its answer, so its id stays unique
        entry = _LITERAL_FREE.put(id(program), (program, _literal_free(program)))
    return entry[1]


def _literal_free(program) -> bool:
    from jacli.language import ir

    def plain(node) -> bool:
        if isinstance(node, (ir.Num, ir.Const)):
            return False
        if isinstance(node, ir.Op) and node.op == "pow":
            return plain(node.args[0]) and (isinstance(node.args[1], ir.Num)
                                            or plain(node.args[1]))
        children = getattr(node, "args", None) or getattr(node, "items", None) or ()
        base = getattr(node, "base", None)
        return all(plain(c) for c in (*children, *((base,) if base is not None else ())))

    values = [getattr(s, "value", None) for s in program.statements]
    return all(plain(v) for v in values if v is not None) and plain(program.output)
