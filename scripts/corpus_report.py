"""Run the published-snippet corpus through PyTorch and jacli; print counts and refusal reasons.

    python scripts/corpus_report.py            # counts, refusal table, differs/crash details
    python scripts/corpus_report.py --write    # also rewrite docs/corpus.md from this run

The corpus (tests/corpus/*.py) is trusted test data: its PyTorch side is executed by the
harness (tests/corpus_harness.py); jacli only ever parses it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import corpus_harness as H  # noqa: E402

def collect() -> list[dict]:
    """One row per snippet: name, source, kind, status, detail."""
    paths = H.corpus_files()
    torch_runs, jacli_runs = H.run_torch(paths), H.run_jacli(paths)
    rows = []
    for p in paths:
        status, detail = H.classify(torch_runs[str(p)], jacli_runs[str(p)])
        rows.append({"name": p.stem, "source": H.source_line(p), "kind": H.kind_line(p),
                     "status": status, "detail": detail})
    return rows


def reason(detail: str) -> str:
    """A refusal message without its position and quoted specifics, to group by construct."""
    text = detail.removeprefix("error:").strip()
    text = re.sub(r"\b(line|column) \d+", r"\1 N", text)
    return text[:110]


def counts_line(rows: list[dict]) -> str:
    return H.counts_line([r["status"] for r in rows])


INTRO = """\
`tests/corpus/` holds PyTorch autograd snippets collected from public sources (tutorials, docs,
d2l, Q&A answers, course notebooks, course and study repositories), one per file, each kept as
published: first line `# source:`, second line `# kind:` (the constructs it uses). Notebook
cells are joined without their outputs and `In [n]:` markers; the few edits are said in the
source line (an `import torch` from an earlier cell, a trailing `exit()` dropped, an excerpt).
Only snippets whose PyTorch run is deterministic (literal values or a seed), CPU-only and fast
are kept; sources named "public code search" are files the code index showed without naming
their repository.

`tests/test_corpus.py` runs every snippet in real PyTorch, as published (default dtype; the test
executes this trusted corpus, jacli never does), and through `jacli vjp - --json` with the
snippet on stdin (`tests/corpus_harness.py`: one child process per side). It compares every
global leaf's `.grad` (and each parameter of a global `nn.Module`) with jacli's `vjp.grad`, the
last `backward`'s output value with `value`, what a final `autograd.grad` /
`functional.jacobian` / `functional.hessian` call returned with `vjp` / `jacobian` / `hessian`,
and, once jacli reports `events`, each event's `.grad` after the call (calls through
`torch.func` are not recorded on the PyTorch side). Regenerate this page with
`python scripts/corpus_report.py --write`; a test checks that the counts below are current.
"""


def markdown(rows: list[dict]) -> str:
    refusals = Counter(reason(r["detail"]) for r in rows if r["status"] == "refused")
    out = ["# The published-snippet corpus", "", INTRO, f"**{counts_line(rows)}.**", "",
           "- `reproduces`: every leaf's `.grad` matches PyTorch (rtol 1e-5 for float32 leaves, "
           "1e-9 for float64), and so do the compared values.",
           "- `refused`: exit 2 or 3 with one `error:` line naming the construct.",
           "- `differs`: jacli answered with other numbers (the worst outcome).",
           "- `crash`: exit 4 or a traceback.", "",
           "## Refusals by reason", "", "| snippets | first line of stderr |", "|---:|---|"]
    out += [f"| {n} | {_cell(text)} |" for text, n in refusals.most_common()]
    bad = [r for r in rows if r["status"] in ("differs", "crash", "invalid")]
    if bad:
        out += ["", "## Differs / crash", ""]
        out += [f"- `{r['name']}` ({r['status']}): {_cell(r['detail'][:600])}" for r in bad]
    out += ["", "## Snippets", "", "| snippet | jacli | constructs | source |", "|---|---|---|---|"]
    out += [f"| `{r['name']}` | {_status_cell(r)} | {_cell(r['kind'])} | {_cell(r['source'])} |"
            for r in rows]
    return "\n".join(out) + "\n"


def _status_cell(row: dict) -> str:
    if row["status"] == "refused":
        return "refused: " + _cell(reason(row["detail"]).split(" (line ")[0])
    return row["status"] + (f" ({_cell(row['detail'])})" if row["detail"] else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str]) -> int:
    rows = collect()
    print(counts_line(rows))
    for text, n in Counter(reason(r["detail"]) for r in rows if r["status"] == "refused").most_common():
        print(f"{n:4d}  {text}")
    for r in rows:
        if r["status"] in ("differs", "crash", "invalid"):
            print(f"{r['status'].upper():10s} {r['name']}: {r['detail'][:800]}")
    if "--write" in argv:
        (ROOT / "docs" / "corpus.md").write_text(markdown(rows), encoding="utf-8")
        print("wrote docs/corpus.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
