"""Run the published-snippet corpus (tests/corpus/) through real PyTorch and through jacli.

Trusted test code: the PyTorch side *executes* the corpus files (they are published snippets
collected by hand, reviewed, and committed here); jacli itself never executes anything.

Contracts:
- ``run_torch(paths)``: one child process runs every snippet exactly as published (default
  dtype, CPU) in a fresh globals dict, and returns per snippet ``{"ok", "error", "leaves",
  "events"}``: ``leaves`` maps every global tensor that is a leaf with ``requires_grad=True``
  (and every parameter of a global ``nn.Module``, as ``name.param``) to ``{"dtype", "grad"}``
  (``grad`` as nested lists, or None); ``events`` lists each top-level ``Tensor.backward`` /
  ``torch.autograd.grad`` / ``torch.autograd.functional.jacobian`` / ``hessian`` call with its
  output value and result (flattened) and every global leaf's ``.grad`` right after it
  (``torch.func`` transforms are not recorded).
- ``run_jacli(paths)``: one child process calls ``jacli.cli.main(["vjp", "-", "--json"])``
  in-process per snippet, with the snippet on stdin; returns ``{"code", "out", "err"}``.
- ``classify(torch_run, jacli_run)`` -> ``(status, detail)`` with status one of
  ``reproduces``, ``refused``, ``differs``, ``crash``, ``invalid`` (the snippet itself fails in
  PyTorch: a corpus bug).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
RTOL = {"float32": 1e-5, "float64": 1e-9}


def corpus_files() -> list[Path]:
    """Every snippet of the corpus, sorted by name."""
    return sorted(CORPUS.glob("*.py"))


def source_line(path: Path) -> str:
    """The ``# source: ...`` first line of a snippet, without the prefix."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first.removeprefix("# source:").strip()


def kind_line(path: Path) -> str:
    """The ``# kind: ...`` second line of a snippet, without the prefix."""
    second = path.read_text(encoding="utf-8").splitlines()[1]
    return second.removeprefix("# kind:").strip()


# -- the two runners (each one child process over all snippets) -----------------------------

def _child(mode: str, paths: list[Path], timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, mode, *map(str, paths)],
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"corpus {mode} runner failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


def run_torch(paths: list[Path], timeout: float = 300) -> dict:
    return _child("torch", paths, timeout)


def run_jacli(paths: list[Path], timeout: float = 600) -> dict:
    return _child("jacli", paths, timeout)


# -- child: PyTorch ------------------------------------------------------------------------

def _flat(t) -> list:
    import torch

    if isinstance(t, torch.Tensor):
        return [float(v) for v in t.detach().reshape(-1).tolist()]
    if isinstance(t, (tuple, list)):
        return [v for part in t for v in _flat(part)]
    return [float(t)] if isinstance(t, (int, float)) else []


_RUN = {"depth": 0, "globals": {}}  # the snippet being run, and how deep in a recorded call


def _install_event_recorders(events: list) -> None:
    """Wrap the gradient calls so each records its output value, its result and every global
    leaf's ``.grad`` right after it (why: jacli's last value, and its ``events`` when present,
    are compared with these). Only top-level calls are events: ``functional.jacobian`` calling
    ``autograd.grad`` inside is one event, as in the user's program."""
    import torch
    import torch.autograd.functional as AF

    def wrap(owner, name, kind, record):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            _RUN["depth"] += 1
            try:
                result = original(*args, **kwargs)
            finally:
                _RUN["depth"] -= 1
            if _RUN["depth"] == 0:
                try:
                    events.append({"kind": kind, **record(args, kwargs, result),
                                   "leaves": _leaves(_RUN["globals"])})
                except Exception as e:  # recording must never change the snippet's run
                    events.append({"kind": kind, "record_error": repr(e)})
            return result

        wrapped.__wrapped__ = original
        setattr(owner, name, wrapped)

    out_of = lambda a, k, r: {"value": _flat(a[0] if a else k.get("tensors", k.get("outputs")))}
    wrap(torch.Tensor, "backward", "backward", out_of)
    wrap(torch.autograd, "grad", "autograd.grad",
         lambda a, k, r: {**out_of(a, k, r), "result": _flat(r)})
    wrap(AF, "jacobian", "functional.jacobian", lambda a, k, r: {"result": _flat(r)})
    wrap(AF, "hessian", "functional.hessian", lambda a, k, r: {"result": _flat(r)})


def global_leaves(g: dict) -> dict:
    """Every global tensor that is a leaf with ``requires_grad``, and every parameter of a
    global ``nn.Module`` (as ``name.param``), by name."""
    import torch

    found = {}
    for name, obj in list(g.items()):
        if isinstance(obj, torch.Tensor) and obj.is_leaf and obj.requires_grad:
            found[name] = obj
        elif isinstance(obj, torch.nn.Module):
            for pname, p in obj.named_parameters():
                found[f"{name}.{pname}"] = p
    return found


def _leaves(g: dict) -> dict:
    found = global_leaves(g)
    return {
        name: {"dtype": str(t.dtype).removeprefix("torch."),
               "grad": None if t.grad is None else t.grad.detach().tolist()}
        for name, t in found.items() if not name.startswith("_")
    }


def _torch_main(paths: list[str]) -> dict:
    import contextlib
    import io
    import warnings

    import torch

    events: list = []
    _install_event_recorders(events)
    results = {}
    for p in paths:
        events.clear()
        torch.set_default_dtype(torch.float32)
        g = {"__name__": "__main__"}
        _RUN["globals"] = g
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(Path(p).read_text(encoding="utf-8"), p, "exec"), g)
            results[p] = {"ok": True, "error": None, "leaves": _leaves(g), "events": list(events)}
        except Exception as e:
            results[p] = {"ok": False, "error": f"{type(e).__name__}: {e}", "leaves": {},
                          "events": list(events)}
    return results


# -- child: jacli --------------------------------------------------------------------------

def _jacli_main(paths: list[str]) -> dict:
    import contextlib
    import io
    import traceback

    from jacli.cli import main

    results = {}
    real_stdin = sys.stdin
    for p in paths:
        out, err = io.StringIO(), io.StringIO()
        sys.stdin = io.TextIOWrapper(io.BytesIO(Path(p).read_bytes()))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["vjp", "-", "--json"])
        except BaseException:  # noqa: BLE001 - a raise out of main is itself a finding
            code, err = 4, io.StringIO(err.getvalue() + traceback.format_exc())
        finally:
            sys.stdin = real_stdin
        results[p] = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
    return results


# -- comparison ----------------------------------------------------------------------------

def _flatten(v) -> list:
    if isinstance(v, list):
        return [x for item in v for x in _flatten(item)]
    return [v]


def _num(v) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v)


def _close(ref: list, got: list, rtol: float) -> bool:
    """Entry by entry, |ref-got| <= rtol*(|ref| + max|ref|): float32 roundoff scales with the
    largest entry (why the second term), NaN matches NaN, inf matches the same inf."""
    if len(ref) != len(got):
        return False
    scale = max([abs(x) for x in ref if math.isfinite(x)] + [1.0])
    for a, b in zip(ref, map(_num, got)):
        if not isinstance(b, (int, float)):
            return False
        if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
            if not (a == b or (math.isnan(a) and math.isnan(b))):
                return False
        elif abs(a - b) > rtol * (abs(a) + scale):
            return False
    return True


STATUSES = ("reproduces", "refused", "differs", "crash", "invalid")


def counts_line(statuses: list[str]) -> str:
    """``"71 snippets: 12 reproduces, 59 refused, 0 differs, 0 crash"`` (``invalid`` only when
    there are some: a corpus snippet that fails in PyTorch is a corpus bug)."""
    n = {s: statuses.count(s) for s in STATUSES}
    shown = [f"{n[s]} {s}" for s in STATUSES if s != "invalid" or n[s]]
    return f"{len(statuses)} snippets: " + ", ".join(shown)


def first_error_line(err: str) -> str:
    """The first non-empty line of stderr (the refusal message)."""
    return next((line.strip() for line in err.splitlines() if line.strip()), "")


def classify(t: dict, j: dict) -> tuple[str, str]:
    """Compare one snippet's PyTorch run with jacli's answer; see the module docstring."""
    if not t["ok"]:
        return "invalid", t["error"]
    code, err = j["code"], j["err"]
    if code == 4 or "Traceback (most recent call last)" in err:
        return "crash", first_error_line(err)
    if code in (2, 3):
        return "refused", first_error_line(err)
    if code != 0:
        return "crash", f"exit {code}: {first_error_line(err)}"
    return _compare(t, json.loads(j["out"]))


def _compare(t: dict, answer: dict) -> tuple[str, str]:
    # a script's answer says each leaf's .grad when it ended (grad_at_end, null for None);
    # else vjp.grad, after the one backward
    at_end = answer.get("grad_at_end")
    grads = at_end if at_end is not None else (answer.get("vjp") or {}).get("grad") or {}
    problems = []
    for name, leaf in t["leaves"].items():
        rtol = RTOL.get(leaf["dtype"], 1e-5)
        if leaf["grad"] is None:
            if name in grads and grads[name] is not None and \
                    any(_num(v) != 0 for v in _flatten(grads[name])):
                problems.append(f"{name}.grad: torch None, jacli {grads[name]}")
            continue
        if name not in grads:
            problems.append(f"{name}.grad: torch {leaf['grad']}, jacli reports no such leaf")
        elif grads[name] is None:
            problems.append(f"{name}.grad: torch {leaf['grad']}, jacli None")
        elif not _close(_flatten(leaf["grad"]), _flatten(grads[name]), rtol):
            problems.append(f"{name}.grad: torch {leaf['grad']}, jacli {grads[name]}")
    problems += _compare_last_value(t, answer)
    result_problems, result_note = _compare_last_result(t, answer)
    event_problems, event_note = _compare_events(t, answer)
    problems += result_problems + event_problems
    if problems:
        return "differs", "; ".join(problems)
    return "reproduces", "; ".join(n for n in (result_note, event_note) if n)


def _compare_last_value(t: dict, answer: dict) -> list[str]:
    """The last backward's output value against jacli's ``value`` (when both exist)."""
    events = [e for e in t["events"] if e.get("kind") == "backward" and "value" in e]
    value = (answer.get("value") or {}).get("numeric")
    if not events or not t["events"] or t["events"][-1] is not events[-1] or value is None:
        return []
    ref = events[-1]["value"]
    if _close(ref, value, 1e-5):
        return []
    return [f"value of the last backward's output: torch {ref}, jacli {value}"]


_RESULT_KEYS = {  # the top-level JSON entry that holds what the last call returned
    "functional.jacobian": ("jacobian", "numeric"),
    "functional.hessian": ("hessian", "numeric"),
    "autograd.grad": ("vjp", "numeric"),
}


def _compare_last_result(t: dict, answer: dict) -> tuple[list[str], str]:
    """When the program ends with a jacobian / hessian / autograd.grad call, what it returned
    against the matching top-level entry of jacli's answer (flattened, row-major)."""
    last = t["events"][-1] if t["events"] else {}
    keys = _RESULT_KEYS.get(last.get("kind"))
    if keys is None or last.get("result") is None:
        return [], ""
    got = (answer.get(keys[0]) or {}).get(keys[1])
    if got is None:
        return [f"the last call ({last['kind']}) has no {keys[0]}.{keys[1]} in jacli's answer"], ""
    flat = _flatten(got)
    if len(flat) != len(last["result"]):
        return [f"{last['kind']}: torch {len(last['result'])} numbers, jacli {len(flat)}"], ""
    if not _close(last["result"], flat, 1e-5):
        return [f"{last['kind']}: torch {last['result']}, jacli {flat}"], ""
    return [], ""


def _compare_events(t: dict, answer: dict) -> tuple[list[str], str]:
    """When jacli reports ``events`` (DESIGN §4), matched in order with the calls PyTorch made:
    after each, every leaf jacli lists has the ``.grad`` PyTorch left (None only as zeros), and
    an ``autograd.grad`` event's ``vjp.numeric`` is what the call returned. Returns (problems,
    a note when the events could not be matched: PyTorch's side does not record torch.func)."""
    theirs = answer.get("events")
    if theirs is None:
        return [], ""
    ours = t["events"]
    if len(theirs) != len(ours):
        return [], f"events not compared: jacli reports {len(theirs)}, PyTorch recorded {len(ours)}"
    problems = []
    for i, (mine, their) in enumerate(zip(ours, theirs), 1):
        for name, got in (their.get("grad") or {}).items():
            leaf = mine.get("leaves", {}).get(name)
            if leaf is None:
                continue  # a leaf PyTorch's globals do not hold (a def's local): not comparable
            ref = leaf["grad"]
            flat = _flatten(got)
            ok = (all(_num(v) == 0 for v in flat) if ref is None
                  else _close(_flatten(ref), flat, RTOL.get(leaf["dtype"], 1e-5)))
            if not ok:
                problems.append(f"event {i} ({mine['kind']}) {name}.grad: torch {ref}, jacli {got}")
        result = mine.get("result")
        numeric = (their.get("vjp") or {}).get("numeric")
        if mine["kind"] == "autograd.grad" and result is not None and numeric is not None:
            if not _close(result, _flatten(numeric), 1e-5):
                problems.append(f"event {i} (autograd.grad): torch {result}, jacli {numeric}")
    return problems, ""


if __name__ == "__main__":
    mode, files = sys.argv[1], sys.argv[2:]
    runner = {"torch": _torch_main, "jacli": _jacli_main}[mode]
    print(json.dumps(runner(files)))
