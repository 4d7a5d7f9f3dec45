"""The published contract: a JSON Schema (draft 2020-12) of every JSON document jacli writes.

One document covers them all (``oneOf``): a command's answer (``Result.to_dict()``, or the
error object ``{"schema": "jacli/1", "error": {...}}``; a ``jacli batch`` line is either, with
the request's ``"id"`` echoed), and the two kinds of line of the many-points JSON Lines stream
(the header, then one row per point). ``jacli schema`` prints ``JSON_SCHEMA``; the test suite
validates every JSON it produces against it.

Keys are only ever added, never renamed (DESIGN §4), so objects that may grow accept keys the
schema does not name; every key jacli writes today is named and typed. ``required`` lists the
keys always present. Plain data only: no jacli module but ``jacli.result``, nothing heavy.
"""

from __future__ import annotations

from typing import Any

from jacli.result import SCHEMA

DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMMANDS = ["jacobian", "vjp", "grad", "jvp", "hessian", "check", "graph"]
MANY_COMMANDS = ["jacobian", "vjp", "grad"]  # the commands that take many points
ERROR_KINDS = ["input", "parse", "name", "shape", "value", "usage", "device", "limit", "script",
               "internal"]


def ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def nullable(schema: dict) -> dict:
    """``schema`` or ``null`` (a side that was not computed)."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict, **more) -> dict:
    return {"type": "array", "items": items, **more}


def obj(description: str, required: dict[str, dict], optional: dict[str, dict] | None = None,
        *, closed: bool = False) -> dict:
    """An object whose ``required`` keys are always present and ``optional`` ones sometimes;
    open to new keys (the contract grows by adding keys) unless ``closed``."""
    out = {"type": "object", "description": description,
           "properties": {**required, **(optional or {})}, "required": list(required)}
    if closed:
        out["additionalProperties"] = False
    return out


def text(description: str) -> dict:
    return {"type": "string", "description": description}


# strict JSON (RFC 8259) has no NaN or infinity: jacli writes them as these strings
NUMBER = {"anyOf": [{"type": "number"}, {"enum": ["NaN", "Infinity", "-Infinity"]}]}

NUMBERS: dict[str, dict] = {
    "number": {"description": "a float; non-finite values as the strings \"NaN\", "
               "\"Infinity\", \"-Infinity\" (strict JSON)", **NUMBER},
    # inline, not a $ref, in the long lists: validators follow a $ref per entry (2.5× slower)
    "numbers": {"description": "a list of numbers (see number)", **array(NUMBER)},
    "number_rows": {"description": "a matrix as a list of rows (outputs × inputs)",
                    **array(ref("numbers"))},
    "nested_numbers": {"description": "a number for a scalar, nested lists for a tensor "
                       "(shaped like the variable, as print(x) shows it)",
                       "anyOf": [ref("number"), array(ref("nested_numbers"))]},
    "direction": {"description": "a direction vector, flat; null where an exact entry has no "
                  "float value", **array(nullable(ref("number")))},
    "strings": array({"type": "string"}),
    "string_rows": array(ref("strings")),
    "shape": {"description": "a tensor shape; [] for a scalar",
              **array({"type": "integer", "minimum": 0})},
    "count": {"type": "integer", "minimum": 0},
}

PIECES: dict[str, dict] = {
    "variable": obj("a variable, in the order of the columns", {
        "name": {"type": "string"}, "shape": ref("shape")}),
    "matrix": obj("J or H: formulas, exact values at the point and autograd's floats; each "
                  "null when that side was not computed", {
        "symbolic": nullable(ref("string_rows")) | {"description": "SymPy formulas"},
        "exact": nullable(ref("string_rows")) | {"description": "exact values at the point"},
        "numeric": nullable(ref("number_rows")) | {"description": "autograd (PyTorch)"}}, {
        "definitions": array(obj("a name used by the shortened formulas", {
            "name": {"type": "string"}, "formula": {"type": "string"}}, closed=True)) | {
            "description": "long formulas shortened: the names symbolic uses, in order, each "
            "formula may use earlier names; [] when nothing was shortened"},
        "symbolic_full": nullable(ref("string_rows")) | {
            "description": "the formulas written out when symbolic is shortened; null when "
            "symbolic is already the full form"}}),
    "product": obj("J u (jvp) or H v (hessian --v): the direction under its own name (u or "
                   "v) and the product, flat", {
        "exact": nullable(ref("strings")), "numeric": nullable(ref("numbers")),
        "symbolic": nullable(ref("strings"))}, {
        "u": ref("direction"), "u_exact": ref("strings"),
        "v": ref("direction"), "v_exact": ref("strings")})
    | {"oneOf": [{"required": ["u", "u_exact"]}, {"required": ["v", "v_exact"]}]},
    "vjp": obj("vᵀJ, flat over the inputs, and each variable's .grad (what y.backward(v) "
               "leaves there); grad reports here with v = [1]", {
        "v": ref("direction"), "v_exact": ref("strings"),
        "exact": nullable(ref("strings")), "numeric": nullable(ref("numbers")),
        "symbolic": nullable(ref("strings")),
        "grad": ref("grads"),
        "v_source": text("where v came from: --v, backward(v) in the program, or 1 for a "
                         "scalar output"),
        "grad_none": ref("strings") | {"description": "variables whose .grad PyTorch leaves "
                                       "as None (shown as zeros)"}}),
    "finite_differences": obj("autograd's J against central finite differences", {
        "agree": {"type": ["boolean", "null"]}, "max_abs_diff": nullable(ref("number")),
        "worst": {"type": ["string", "null"]}, "disagreements": ref("strings"),
        "steps": ref("numbers"), "numeric": ref("number_rows"),
        "error_estimate": ref("number_rows"), "tolerance": {"type": "string"},
        "compared": ref("count"), "not_compared": ref("strings")}, {
        "explained": ref("strings") | {"description": "entries that differ only because the "
                                       "program stops gradients (detach, no_grad): not "
                                       "counted as disagreements"}}),
    "check": obj("autograd against SymPy's exact values at the point (agree); with jacli "
                 "check also against finite differences (all_agree is the overall verdict)", {
        "agree": {"type": ["boolean", "null"]}, "max_abs_diff": nullable(ref("number")),
        "compared": ref("count"), "tolerance": {"type": "string"},
        "worst": {"type": ["string", "null"]}, "disagreements": ref("strings"),
        "max_ulps": nullable(ref("number")), "max_abs_diff_reason": {"type": ["string", "null"]},
        "all_agree": {"type": ["boolean", "null"]},
        "failed": array({"enum": ["sympy", "finite_differences"]})}, {
        "finite_differences": ref("finite_differences")}),
    "structure": obj("the structure of the numeric J and the AD mode's cost", {
        "shape": array(ref("count"), minItems=2, maxItems=2), "mode": {"type": "string"}}, {
        "note": text("why rank, determinant and condition number are missing"),
        "rank": ref("count"), "full_rank": {"type": "boolean"},
        "determinant": ref("number") | {"description": "square J only"},
        "condition_number": ref("number")}),
    "graph_node": obj("a grad_fn node; a node reached again is listed once, then referred to "
                      "by id with shared: true", {
        "id": ref("count"), "name": text("the grad_fn's class, e.g. MulBackward0")}, {
        "children": array(ref("graph_node")), "shared": {"const": True},
        "leaf": text("the variable an AccumulateGrad node writes"), "shape": ref("shape")}),
    "graph": obj("the autograd graph PyTorch records (jacli graph)", {
        "output": {"type": "string"}, "shape": ref("shape"),
        "root": nullable(ref("graph_node")), "nodes": ref("count")}),
    "event": obj("one gradient event (backward, torch.autograd.grad, torch.func.*): what "
                 "DESIGN §4 documents; only kind is certain", {"kind": {"type": "string"}}, {
        "line": {"type": ["integer", "null"]}, "output": {"type": "string"},
        "output_shape": ref("shape"), "v": nullable(ref("nested_numbers")),
        "inputs": ref("strings"), "jacobian": nullable(ref("matrix")),
        "vjp": {"type": ["object", "null"]}, "grad_before": ref("grads"),
        "grad": ref("grads"), "grad_none": ref("strings"),
        "grad_before_none": ref("strings"), "v_source": {"type": "string"},
        "value": nullable(ref("numbers")), "replayed": {"type": "boolean"},
        "replay_why": text("why the event has no formulas (PyTorch's numbers only)"),
        "result": {"description": "what the call returned (autograd.grad, functional.*)"}}),
    "grads": nullable({"type": "object", "additionalProperties": ref("nested_numbers")}) | {
        "description": "variable name -> its .grad, shaped like the variable"},
    "latex": obj("LaTeX of the formulas (--format latex; the Python API)", {}, {
        "symbolic": ref("string_rows"), "exact": ref("string_rows"), "vjp": ref("strings"),
        "definitions": array(array({"type": "string"}, minItems=2, maxItems=2)) | {
            "description": "[name, formula] of each name the shortened symbolic J uses"}}),
}

ID = {"description": "jacli batch only: the request's \"id\", echoed as given (any JSON value)"}

RESULT = obj("a command's result (Result.to_dict()); the top level describes the last "
             "gradient event", {
    "schema": {"const": SCHEMA},
    "command": {"enum": COMMANDS},
    "variables": array(ref("variable")),
    "inputs": ref("strings") | {"description": "flat column labels"},
    "outputs": ref("strings") | {"description": "flat row labels"},
    "output_shape": ref("shape"),
    "point": nullable({"type": "object", "additionalProperties": ref("nested_numbers")}) | {
        "description": "the point (--at), numbers as JSON numbers; null without one"},
    "value": obj("the outputs at the point, flat", {
        "exact": nullable(ref("strings")), "numeric": nullable(ref("numbers"))}),
    "jacobian": nullable(ref("matrix")),
    "notices": ref("strings"),
    "dtype": {"type": "string"}, "device": {"type": "string"},
    "strategy": {"type": ["string", "null"], "description": "how the numeric J was computed"},
    "strategy_short": {"type": ["string", "null"]},
}, {
    "vjp": ref("vjp"), "jvp": ref("product"),
    "hessian": {"description": "the Hessian of a scalar output (a matrix), and H v with --v",
                "allOf": [ref("matrix")], "properties": {"hvp": nullable(ref("product"))},
                "required": ["hvp"]},
    "check": ref("check"), "structure": ref("structure"), "graph": ref("graph"),
    "ignored": ref("strings") | {"description": "pasted lines accepted and ignored"},
    "torch_script": text("--emit torch: a standalone PyTorch script"),
    "latex": ref("latex"),
    "events": array(ref("event")) | {"description": "scripts: one per gradient event, in "
                                      "order; the top level describes the chosen one (--event)"},
    "versions": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "the versions of jacli, torch and SymPy that computed it"},
    "seed": {"type": "integer", "description": "scripts: the seed random tensors were drawn "
             "with when the script set none (--seed; default 0)"},
    "grad_at_end": {"type": "object", "additionalProperties": nullable(ref("nested_numbers")),
                    "description": "scripts: each leaf's .grad when the script ended (null: "
                    "None)"},
    "id": ID,
})

ERROR = obj("what a script gets instead of a result (also on stderr, with a non-zero exit)", {
    "schema": {"const": SCHEMA},
    "error": obj("one clear error", {
        "kind": {"enum": ERROR_KINDS}, "message": {"type": "string"},
        "line": {"type": ["integer", "null"], "minimum": 1},
        "column": {"type": ["integer", "null"], "minimum": 1},
        "hint": {"type": ["string", "null"]},
        "where": {"type": ["string", "null"], "description": "e.g. --at, --v, expression"}}),
}, {"id": ID})

MANY_HEADER = obj("many points (--at-file, or several --at values): the first line", {
    "schema": {"const": SCHEMA}, "command": {"enum": MANY_COMMANDS},
    "points": ref("count"), "variables": array(ref("variable")),
    "inputs": ref("strings"), "outputs": ref("strings"),
    "jacobian_symbolic": nullable(ref("string_rows")),
    "strategy": text("how the numbers were batched over points")})

MANY_ROW = obj("many points: one line per point, in order, after the header", {
    "index": ref("count"), "value": ref("numbers")}, {
    "jacobian": ref("number_rows"), "vjp": ref("numbers"),
    "check": {"type": ["boolean", "null"], "description": "the first few points only: SymPy "
              "and the one-point numbers agree with the batched row"}})

JSON_SCHEMA: dict[str, Any] = {
    "$schema": DIALECT,
    "title": f"jacli JSON output ({SCHEMA})",
    "description": "Every JSON document jacli writes (--json, --format json, jacli batch, the "
    "many-points JSON Lines): strict JSON, non-finite numbers as the strings \"NaN\", "
    "\"Infinity\", \"-Infinity\". Keys are only ever added, never renamed: objects accept keys "
    "this schema does not name yet; required keys are always present.",
    "oneOf": [ref("result"), ref("error"), ref("many_header"), ref("many_row")],
    "$defs": {"result": RESULT, "error": ERROR,
              "batch_line": {"description": "a jacli batch answer: a result or an error, with "
                             "the request's id when it had one", "oneOf": [ref("result"),
                                                                            ref("error")]},
              "many_header": MANY_HEADER, "many_row": MANY_ROW, **NUMBERS, **PIECES},
}


def part(name: str) -> dict[str, Any]:
    """A schema for one kind of document alone (``"result"``, ``"error"``, ``"batch_line"``,
    ``"many_header"``, ``"many_row"``): the same ``$defs``, entered at ``name``."""
    if name not in JSON_SCHEMA["$defs"]:
        raise KeyError(name)
    return {"$schema": DIALECT, "$defs": JSON_SCHEMA["$defs"], "$ref": f"#/$defs/{name}"}
