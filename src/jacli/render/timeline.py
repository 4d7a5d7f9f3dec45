"""The timeline of a script's gradient events: one compact line each (kind, line, output,
``v``, every leaf's ``.grad`` before → after), so accumulation, ``zero_()`` and
``optimizer.zero_grad()`` show; long loops shown by their first, second and last events."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from jacli.render.format import num
from jacli.result import Result

SHOWN = 6  # events listed in full; past that: the first two, the chosen and the last


def timeline(r: Result, chosen: int | None = None) -> RenderableType | None:
    """A panel listing ``r.events``; ``None`` for a program with one event."""
    events = r.events
    if len(events) < 2:
        return None
    keep = _kept(len(events), chosen)
    lines: list[Text] = []
    previous = -1
    for i in keep:
        if i > previous + 1:
            lines.append(Text(f"   … {i - previous - 1} more event(s) (--event N shows one)",
                              style="dim"))
        lines.append(_line(i + 1, events[i]))
        previous = i
    title = f"{len(events)} gradient events, in order — .grad before → after"
    return Panel(Group(*lines), title=Text(title), expand=False)


def _kept(n: int, chosen: int | None) -> list[int]:
    if n <= SHOWN:
        return list(range(n))
    return sorted({0, 1, n - 1, *([chosen] if chosen is not None else [])})


def _line(k: int, e: dict) -> Text:
    call = {"backward": f"{e['output']}.backward({'v' if e.get('v') is not None else ''})",
            "autograd.grad": f"torch.autograd.grad({e['output']}, …)"}.get(
        e["kind"], e["kind"])
    head = f"{k:>3}  line {e['line']:<4} {call}"
    if e.get("v") is not None:
        head += f"  v = {_short(e['v'])}"
    grads = []
    for name, after in (e.get("grad") or {}).items():
        before = (e.get("grad_before") or {}).get(name)
        if name in e.get("grad_before_none", []):
            before = None
        none_after = name in e.get("grad_none", [])
        grads.append(f"{name}.grad: {_short(before) if before is not None else 'None'} → "
                     f"{'None' if none_after else _short(after)}")
    text = Text(escape(head))
    for g in grads[:4]:
        text.append("\n        " + g, style="dim" if "→" not in g else None)
    if len(grads) > 4:
        text.append(f"\n        … and {len(grads) - 4} more leaves", style="dim")
    return text


def _short(value, limit: int = 6) -> str:
    """A nested list or number, short: at most ``limit`` numbers."""
    flat: list = []

    def walk(v):
        if isinstance(v, list):
            for x in v:
                walk(x)
        else:
            flat.append(v)

    walk(value)
    if not isinstance(value, list):
        return num(float(flat[0])) if flat and isinstance(flat[0], (int, float)) else str(value)
    shown = ", ".join(num(float(x)) if isinstance(x, (int, float)) else str(x)
                      for x in flat[:limit])
    return f"[{shown}{', …' if len(flat) > limit else ''}]"
