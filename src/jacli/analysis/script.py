"""Scripts: run the machine, replay the chosen gradient event through the one pipeline, and
lay every event out for the ``Result``.

The top level of the ``Result`` describes one event (the last, or ``--event N``): its replay
(a straight-line jacli program, the branch PyTorch took) is analysed exactly like a typed
program — formulas, exact values, autograd, the check — and then PyTorch's own run has the
last word: ``vjp.grad`` is each leaf's ``.grad`` as the real run left it (accumulation
included), and a replay whose numbers differ from the run's is said, never shown as the
answer. An event that cannot be replayed keeps PyTorch's numbers, with a notice saying why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import torch

from jacli.analysis.prepare import stage
from jacli.analysis.tolerances import close_in_float32
from jacli.errors import NameLookupError, ParseError, UsageError
from jacli.request.command import Command as C
from jacli.request.problem import Problem
from jacli.request.values import parse_point, parse_vector
from jacli.result import VJP, Matrix, Product, Result, Variable
from jacli.result.labels import labels
from jacli.runtime.script import ScriptRun, run_script
from jacli.runtime.script.events import Event
from jacli.runtime.script.trace import replay_name

REPLAYED = 8  # events analysed in full (formulas, exact values); the rest keep the numbers


def compute_script(problem: Problem, analyse_program: Callable[[Problem], Result]) -> Result:
    """Run ``problem.source`` as a script and answer for its chosen event;
    ``analyse_program`` answers a straight-line program (each replay)."""
    if problem.command in (C.graph,) or problem.emit:
        raise UsageError(f"{'--emit' if problem.emit else 'jacli graph'} takes one expression "
                         "or a straight-line program, not a script with loops, functions or "
                         "several gradient events")
    seed = 0 if problem.seed is None else problem.seed
    run = stage(problem.limits.timeout, "script run",
                lambda: run_script(problem.source, problem.limits, seed, _overrides(problem)))
    chosen = _chosen(problem, run)
    analysed = {}
    for i in sorted({*range(min(REPLAYED - 1, len(run.events))), len(run.events) - 1, chosen}):
        analysed[i] = _analyse(problem, run.events[i], analyse_program)
    top = analysed[chosen] or _numbers_only(problem, run.events[chosen])
    return _finish(problem, run, chosen, top, analysed)


def _overrides(problem: Problem) -> dict[str, Any]:
    """``--at`` for a script: named values replacing its leaves' values (floats)."""
    if not problem.at:
        return {}
    named, positional = parse_point(list(problem.at), problem.limits)
    if positional:
        raise UsageError("a script's leaves are given by name: --at x=[1,2]",
                         hint="name the tensor the script makes", where="--at")
    return {k: _floats(v) for k, v in named.items()}


def _floats(v) -> Any:
    return [_floats(x) for x in v] if isinstance(v, list) else float(v)


def _chosen(problem: Problem, run: ScriptRun) -> int:
    n = len(run.events)
    if problem.event is None or problem.event == "last":
        return n - 1
    k = int(problem.event)
    if not 1 <= k <= n:
        raise UsageError(f"--event {k}: the script has {n} gradient event{'s' * (n != 1)}",
                         hint=f"choose 1 to {n}", where="--event")
    return k - 1


def _analyse(problem: Problem, event: Event, analyse_program) -> Result | None:
    """The replay analysed as a program, or ``None`` (no replay, or the replay refused)."""
    if event.replay is None:
        return None
    command = problem.command if event.command in ("vjp", "grad") and problem.command in (
        C.vjp, C.grad, C.jacobian, C.check) else C(event.command)
    if command == C.grad and event.value is not None and event.value.numel() != 1:
        command = C.vjp
    names = {replay_name(n) for n, _ in event.inputs}
    if event.kind == "output":  # no backward in the script: the command and --v, --u rule
        command, v, u = problem.command, problem.v, problem.u
    else:  # a jvp's direction is the tangent the script gave
        v, u = None, None if event.u is None else ",".join(map(repr, event.u.tolist()))
    order = problem.vars if problem.vars and set(problem.vars) == names else None
    wrt = problem.wrt if problem.wrt and set(problem.wrt) <= names else None
    replay = replace(problem, source=event.replay, command=command, at=(), v=v, u=u,
                     vars=order, wrt=wrt, output=None, seed=None, event=None,
                     limits=replace(problem.limits, source_chars=max(
                         problem.limits.source_chars, 2_000_000), nodes=max(
                         problem.limits.nodes, 200_000)))
    try:
        return analyse_program(replay)
    except (ParseError, NameLookupError) as e:  # the straight-line language cannot say it
        event.replay_why = f"the replay was refused: {e.message}"
        event.replay = None
        return None


def _numbers_only(problem: Problem, event: Event) -> Result:
    """A ``Result`` from PyTorch's run alone: values, vᵀJ, .grad; no formulas."""
    inputs = [lab for name, t in event.inputs for lab in labels(name, tuple(t.shape))]
    shape = tuple(event.value.shape) if event.value is not None else ()
    if problem.command == C.hessian:
        raise UsageError(f"no Hessian for the event at line {event.line}: {event.replay_why}",
                         hint="the Hessian needs the replay's formulas; write that line with "
                         "the functions `jacli functions` lists")
    jac = hess = jvp = None
    vjp = _real_vjp(event, None)
    if event.kind == "output" and event.result:  # J on PyTorch's own graph
        J = event.result[0]
        jac = Matrix(numeric=J.to(torch.float64).tolist())
        if problem.v is not None:
            v = torch.tensor(_floats(parse_vector(problem.v, "--v", problem.limits)),
                             dtype=torch.float64).reshape(-1)
            if v.numel() == J.shape[0]:
                vjp = VJP(v=v.tolist(), v_exact=[repr(x) for x in v.tolist()],
                          numeric=(v @ J.to(torch.float64)).tolist(), v_source="--v")
        if problem.u is not None:
            u = torch.tensor(_floats(parse_vector(problem.u, "--u", problem.limits)),
                             dtype=torch.float64).reshape(-1)
            if u.numel() == J.shape[1]:
                jvp = Product("u", u.tolist(), [repr(x) for x in u.tolist()],
                              numeric=(J.to(torch.float64) @ u).tolist())
    elif event.result and event.command in ("jacobian", "hessian"):
        flat = torch.cat([r.reshape(-1) for r in event.result]).tolist()
        n = max(len(inputs), 1)
        rows = [flat[i:i + n] for i in range(0, len(flat), n)]
        jac = Matrix(numeric=rows) if event.command == "jacobian" else None
        hess = Matrix(numeric=rows) if event.command == "hessian" else None
    return Result(
        command=problem.command, source=problem.source,
        variables=tuple(Variable(n, tuple(t.shape)) for n, t in event.inputs),
        inputs=tuple(inputs), outputs=tuple(labels(event.output, shape)), output_shape=shape,
        output_label=event.output, order="the order the script's call reaches them",
        value_numeric=None if event.value is None else _flat(event.value),
        point={n: _nested(t, t) for n, t in event.inputs},
        point_text={n: _short_text(t) for n, t in event.inputs},
        jacobian=jac, hessian=hess, vjp=vjp, jvp=jvp,
        notices=(f"no formulas for this event: {event.replay_why}",),
        dtype=problem.dtype, device=problem.device)


def _real_vjp(event: Event, base: VJP | None) -> VJP | None:
    """vᵀJ and ``.grad`` as PyTorch's run has them."""
    if event.kind == "autograd.grad" and event.result is not None:
        numeric = [x for (name, t), r in zip(event.inputs, event.result)
                   for x in (_flat(r) if r is not None else [0.0] * t.numel())]
    elif event.kind == "backward":
        numeric = [x for name, t in event.inputs for x in _delta(event, name, t)]
    else:  # torch.func / functional calls return their answer and leave .grad as it was
        functional = base is not None and event.kind.startswith(("func.", "functional."))
        return replace(base, grad=None, grad_repr=None, grad_none=()) if functional else base
    v = [1.0] if event.v is None else _flat(event.v)
    base = base or VJP(v=v, v_exact=[repr(x) for x in v], v_source=event.v_source)
    return replace(base, numeric=numeric if base.numeric is None else base.numeric,
                   grad={n: _nested(event.grad.get(n), t) for n, t in _leaves(event)},
                   grad_repr={n: repr(g.cpu()) for n, g in event.grad.items() if g is not None},
                   grad_none=tuple(n for n, g in event.grad.items() if g is None))


def _in_order(event: Event, real: VJP | None, top: Result) -> list[float] | None:
    """PyTorch's vᵀJ in the replay's column order (its variables' natural order)."""
    if real is None or real.numeric is None:
        return None
    pieces, start = {}, 0
    for name, t in event.inputs:
        pieces[replay_name(name)] = real.numeric[start:start + t.numel()]
        start += t.numel()
    if set(pieces) != {v.name for v in top.variables}:
        return None
    return [x for v in top.variables for x in pieces[v.name]]


def _leaves(event: Event) -> list[tuple[str, Any]]:
    shapes = {n: torch.zeros(event.shapes.get(n, ())) for n, g in event.grad.items()
              if g is None} | {n: t for n, t in event.inputs}  # a None .grad: its leaf's zeros
    return [(n, shapes.get(n, g)) for n, g in event.grad.items()]


def _delta(event: Event, name: str, t: torch.Tensor) -> list[float]:
    after, before = event.grad.get(name), event.grad_before.get(name)
    if after is None:
        return [0.0] * t.numel()
    return _flat(after if before is None else after - before)


def _finish(problem: Problem, run: ScriptRun, chosen: int, top: Result,
            analysed: dict[int, Result | None]) -> Result:
    event = run.events[chosen]
    notices = list(top.notices)
    vjp = _real_vjp(event, top.vjp)
    if top.vjp is not None and top.vjp.numeric is not None and vjp is not None and \
            event.kind in ("backward", "autograd.grad") and analysed.get(chosen) is not None:
        real = _in_order(event, _real_vjp(event, None), top)
        if real is not None and not close_in_float32(real, top.vjp.numeric):
            notices.append("the replay's vᵀJ differs from what PyTorch's run computed "
                           f"(line {event.line}): .grad shows PyTorch's numbers")
    if event.kind.startswith(("func.", "functional.")) and top.vjp is not None:
        notices.append(f"torch.{event.kind} (line {event.line}) returns it; .grad is untouched")
    notices += run.paths
    if run.seeds:
        notices.append("random numbers drawn with " + ", ".join(
            f"torch.manual_seed({s}) at line {line}" for line, s in run.seeds))
    elif _draws_random(problem.source):
        notices.append(f"random numbers drawn with seed {run.seed} (jacli's default; "
                       "--seed K changes it)")
    if len(run.events) > 1:
        notices.append(f"{len(run.events)} gradient events; the tables show event "
                       f"{chosen + 1} (line {event.line}); --event N shows another")
    events = tuple(_event_dict(e, analysed.get(i)) for i, e in enumerate(run.events))
    top = _own_names(top, event)
    return replace(top, source=problem.source, command=problem.command, vjp=vjp,
                   notices=tuple(dict.fromkeys(notices)), events=events,
                   extras={**top.extras, "seed": run.seed, "grad_at_end": _at_end(run)})


def _own_names(r: Result, event: Event) -> Result:
    """The script's own names back in the labels: ``model.weight[0,1]`` (the replay wrote
    ``model_weight``) and the output as the script wrote it (``z.mean()``)."""
    back = {replay_name(n): n for n, _ in event.inputs if replay_name(n) != n}

    def own(label: str) -> str:
        head, bracket, rest = label.partition("[")
        return back.get(head, head) + bracket + rest

    outputs = r.outputs
    if r.output_label != event.output and len(r.outputs) == 1 and r.output_shape == ():
        outputs = (event.output,)
    return replace(
        r, inputs=tuple(map(own, r.inputs)), outputs=outputs,
        output_label=event.output if outputs != r.outputs else r.output_label,
        variables=tuple(Variable(own(v.name), v.shape) for v in r.variables),
        point=None if r.point is None else {own(k): x for k, x in r.point.items()},
        point_text=r.point_text and {own(k): x for k, x in r.point_text.items()})


def _at_end(run: ScriptRun) -> dict[str, Any]:
    """Each leaf's ``.grad`` when the script ended (``null`` for None): later code may
    have zeroed or stepped past what the chosen event left."""
    return {n: None if t.grad is None else _nested(t.grad, t) for n, t in run.leaves.items()}


def _event_dict(e: Event, r: Result | None) -> dict[str, Any]:
    shapes = {n: t for n, t in e.inputs}
    out = {"kind": e.kind, "line": e.line, "output": e.output,
           "output_shape": [] if e.value is None else list(e.value.shape),
           "v": None if e.v is None else e.v.tolist(), "v_source": e.v_source,
           "inputs": [lab for n, t in e.inputs for lab in labels(n, tuple(t.shape))],
           "value": None if e.value is None else _flat(e.value),
           "jacobian": None if r is None or r.jacobian is None else vars(r.jacobian),
           "vjp": {"numeric": (_real_vjp(e, None) or VJP([], [])).numeric,
                   "exact": None if r is None or r.vjp is None else r.vjp.exact},
           "grad_before": {n: _nested(g, shapes.get(n, g)) for n, g in e.grad_before.items()},
           "grad": {n: _nested(g, shapes.get(n, g)) for n, g in e.grad.items()},
           "grad_none": [n for n, g in e.grad.items() if g is None],
           "grad_before_none": [n for n, g in e.grad_before.items() if g is None],
           "replayed": e.replay is not None}
    if e.replay_why:
        out["replay_why"] = e.replay_why
    if e.result is not None and e.kind != "backward":
        out["result"] = [None if t is None else t.tolist() for t in e.result]
    return out


def _nested(g, like) -> Any:
    if g is None:
        shape = tuple(like.shape) if isinstance(like, torch.Tensor) else ()
        g = torch.zeros(shape)
    return g.detach().to(torch.float64).tolist()


def _short_text(t: torch.Tensor) -> str:
    values = t.detach().to(torch.float64).reshape(-1).tolist()
    shown = ", ".join(f"{x:.6g}" for x in values[:6]) + (", …" if len(values) > 6 else "")
    return shown if t.dim() == 0 else f"[{shown}]"


def _flat(t: torch.Tensor) -> list[float]:
    return t.detach().to(torch.float64).reshape(-1).tolist()


def _draws_random(source: str) -> bool:
    return any(w in source for w in ("rand", "normal", "nn.Linear", "Linear(", "bernoulli",
                                     "dropout", "uniform_"))
