"""``jacli batch``: many requests in one process, so the import floor is paid once.

Each input line is a JSON object whose keys are the CLI's options: ``{"command": "vjp",
"expr": "x1*x2, x1+x2", "at": "1,2", "v": "1,1"}`` (``at`` may be a string or a list of
strings; also ``u vars wrt output dtype device symbolic mode timeout``). Each output line is
the result's JSON, or ``{"schema": "jacli/1", "error": {...}}``; a bad line never stops the
stream.
"""

from __future__ import annotations

import json
from typing import Any

from jacli.errors import JacliError, UsageError, internal_error
from jacli.result import SCHEMA, strict
from jacli.runtime.lru import Lru

_KEYS = {"command", "expr", "at", "v", "u", "vars", "wrt", "output", "dtype", "device",
         "symbolic", "mode", "timeout", "id"}


def answer_line(line: str, kept: list | None = None) -> str:
    """``answer(line)`` as its JSON text (no newline). The answer is written as held and
    made strict only when it holds a NaN or an infinity: walking every value of a small
    answer to look for one cost a batch request a tenth of its time. ``kept``: a list that
    receives the answer's objects, so that the caller frees them after writing the line
    (``jacli batch``: freeing a small request's tensors, SymPy values and lists is done
    while the client reads the answer, not before it is sent: ~35 µs a round trip)."""
    found = answer(line, strict_json=False, kept=kept)
    if kept is not None:
        kept.append(found)
    try:
        return _encoded(found)
    except ValueError:  # a non-finite number: its string form ("NaN", "Infinity")
        return json.dumps(strict(found), allow_nan=False)


def _listed(value) -> list:
    """What ``json`` cannot write itself: a ``Result``'s lazy lists (``Texts``, ``Floats``)."""
    return value.tolist()


def _encoded(found) -> str:
    """``json.dumps(found, allow_nan=False, default=_listed, check_circular=False)``: a
    fresh tree of dicts and lists has no cycle to check for (3 of its 18 µs), and the C
    encoder ``dumps`` would build for these options is built once (~1 µs a call), where
    this Python has one (``_C_ENCODER``)."""
    if _C_ENCODER is None:
        return json.dumps(found, allow_nan=False, default=_listed, check_circular=False)
    return "".join(_C_ENCODER(found, 0))


def _c_encoder():
    """The C encoder ``json.dumps`` makes for ``_encoded``'s options (``JSONEncoder``'s
    defaults otherwise: ASCII, ", " and ": "), or ``None`` where there is none."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    return make(None, _listed, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                False, False, False)


_C_ENCODER = _c_encoder()


def answer(line: str, strict_json: bool = True, kept: list | None = None) -> dict[str, Any]:
    """The JSON-ready answer to one request line (never raises for user input). The
    request's ``"id"`` is echoed whenever the line is a JSON object, refused or not.
    ``strict_json=False``: a result's values as held (``answer_line``). ``kept``: receives
    the ``Result`` (``answer_line``)."""
    request: Any = None
    try:
        request = _parse(line)
        _check(request)
        from jacli.analysis.compute import compute

        found = compute(_problem(request))
        if kept is not None:
            kept.append(found)
        result = found.to_dict(strict_json)
        if "id" in request:
            result["id"] = strict(request["id"])
        return result
    except JacliError as e:
        result = {"schema": SCHEMA, "error": e.to_dict()}
    except Exception as e:  # a bug in jacli: say so on this line, and answer the next one
        result = {"schema": SCHEMA, "error": internal_error(e).to_dict()}
    if isinstance(request, dict) and "id" in request:
        result["id"] = request["id"]  # echo the caller's id so answers can be matched
    return strict(result)


def _parse(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError as e:
        raise UsageError(f"not a JSON object: {e}", where="batch") from None
    except RecursionError:
        raise UsageError("not a JSON object jacli reads: it nests too deep",
                         where="batch") from None


def _texts(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list)
                                      and all(isinstance(v, str) for v in value))


# what each key may hold, as JSON gives it: (test, what to write instead)
_TYPES = {
    "command": (lambda v: isinstance(v, str), 'a command name, e.g. "vjp"'),
    "at": (lambda v: _texts(v) or isinstance(v, dict),
           'a text ("1,2"), a list of texts (["x=[1,2]", "y=3"]) or an object of values '
           '({"x": [1, 2]})'),
    "v": (lambda v: isinstance(v, (str, list)), 'a text ("1,1") or a list of numbers'),
    "u": (lambda v: isinstance(v, (str, list, dict)),
          'a text ("1,0"), a list of numbers or an object of them by variable'),
    "vars": (_texts, 'a text ("x1,x2") or a list of names'),
    "wrt": (_texts, 'a text ("x") or a list of names'),
    "output": (lambda v: isinstance(v, str), 'a name (text)'),
}


def _check(request: Any) -> None:
    if not isinstance(request, dict):
        raise UsageError("each line must be a JSON object", where="batch")
    unknown = set(request) - _KEYS
    if unknown:
        raise UsageError(f"unknown key(s) {', '.join(sorted(unknown))}",
                         hint=f"keys: {', '.join(sorted(_KEYS))}", where="batch")
    if not isinstance(request.get("expr"), str):
        raise UsageError('each request needs "expr": the function as a string', where="batch")
    for key, (fits, wanted) in _TYPES.items():
        if key in request and not fits(request[key]):
            raise UsageError(f'"{key}" must be {wanted}, not {json.dumps(request[key])[:40]}',
                             where="batch")


def _problem(request: dict[str, Any]):
    """The request as a checked ``Problem``: the CLI's builder, with the request's keys as the
    options given (a key the command would ignore is refused, as the CLI refuses it). A
    request that differs from an earlier one only in ``at`` (and ``id``) copies that one's
    ``Problem`` with its own point (``at_point``)."""
    from jacli.request.problem import at_point

    if isinstance(request.get("at"), dict):  # values by name are read (and may be refused)
        return _build(request)  # where ``build`` reads them: before ``u``'s, whose may be too
    key = _options_key(request)
    built = _BUILT.get(key) if key is not None else None
    if built is None:  # checked without its point (``at`` named, its value not kept)
        built = _build({**request, "at": None} if "at" in request else request)
        if key is not None:
            _BUILT.put(key, built)
    return at_point(built, request.get("at"))


_BUILT = Lru(32)  # Problems by their requests' other keys: see ``_options_key``


def _options_key(request: dict[str, Any]) -> tuple | None:
    """What a request asks besides its point: its keys but ``at`` and ``id``, with their
    values and the values' types (``true`` equals ``1``, but only one is a valid timeout),
    and whether it has an ``at``; ``None`` when a value is not hashable (a list)."""
    key = (tuple(sorted((k, type(v), v) for k, v in request.items() if k not in ("at", "id"))),
           "at" in request)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _build(request: dict[str, Any]):
    from jacli.request.problem import build, check_timeout

    options = {k: v for k, v in request.items() if k not in ("command", "expr", "id")}
    if "timeout" in options:
        check_timeout(options["timeout"], '"timeout"')  # named as the request names it
    return build(str(request.get("command", "jacobian")), request["expr"], given=options,
                 **options)
