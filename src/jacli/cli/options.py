"""The CLI's options: one annotated parameter per option, and which command takes which.

``PARAMETERS`` lists every option in ``--help`` order; ``request.command.TAKES`` says which
command takes it; ``app`` builds each command's signature from both. The choice types are
made from the request's own tables, so the CLI, ``jacli batch`` and the API accept the same
values. Imports neither torch nor SymPy.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, List, Optional

import typer

from jacli.request.problem import DTYPES, EMITS, MODES, SYMBOLIC

EPILOG_LANGUAGE = (
    "Language: + - * / ** (or ^) @, sin cos tan exp log sqrt abs sigmoid relu softplus tanh …, "
    "sum mean prod dot norm, view reshape T transpose flatten, mm mv matmul, detach, "
    "x[0], x[:,0], zeros/ones/eye, statements separated by ';' or newlines. "
    "`jacli functions` lists every function."
)



def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A Typer choice type over one of the request's tables (``request.problem``)."""
    return Enum(name, {v: v for v in values}, type=str)


Mode = _choices("Mode", MODES)
Emit = _choices("Emit", EMITS)
Dtype = _choices("Dtype", DTYPES)
Symbolic = _choices("Symbolic", SYMBOLIC)


class Format(str, Enum):
    """Every output format; each command offers its own subset (below)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    dot = "dot"
    html = "html"
    svg = "svg"


class GraphFormat(str, Enum):
    """graph's formats: the tree, JSON, or Graphviz DOT (it has no formulas to typeset)."""

    table = "table"
    json = "json"
    dot = "dot"


class JFormat(str, Enum):
    """The formats of the commands that show J (DOT draws only the graph)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    html = "html"  # one self-contained page: tables, MathML, heat map, the JSON embedded
    svg = "svg"  # the table view as a terminal screenshot (Rich's SVG export)


ExprArg = Annotated[Optional[str], typer.Argument(
    metavar="EXPR", show_default=False,
    help="The function: 'x1**2 + 2*x2', a comma list of outputs 'f1, f2', statements "
    "'y = 2*x; y.view(2,2)', or '-' to read stdin.")]
FileOpt = Annotated[Optional[str], typer.Option(
    "--file", "-f", metavar="FILE", show_default=False, help="Read the function from FILE.")]
AtOpt = Annotated[Optional[List[str]], typer.Option(
    "--at", "-a", metavar="POINT", show_default=False,
    help="The point: '1,2' (variables in order) or 'x=[1,2]' (repeatable). Exact: 0.1 is "
    "1/10, 1/3 is allowed. Without it: formulas only.")]
AtFileOpt = Annotated[Optional[str], typer.Option(
    "--at-file", metavar="FILE", show_default=False,
    help="Many points: JSON Lines ({\"x\": [1, 2]} per line) or CSV (header of names); "
    ".npy/.npz arrays (leading axis: the points), .parquet/.arrow with pyarrow. "
    "Batched autograd; one JSON object per line on stdout.")]
VOpt = Annotated[Optional[str], typer.Option(
    "--v", "-v", metavar="V", show_default=False,
    help="The weight vector of y.backward(v): the output's shape, e.g. '1,2' or '[[1,1]]'.")]
HvOpt = Annotated[Optional[str], typer.Option(
    "--v", "-v", metavar="V", show_default=False,
    help="The direction of the Hessian-vector product H v, one number per input, e.g. '1,0'.")]
UOpt = Annotated[Optional[str], typer.Option(
    "--u", "-u", metavar="U", show_default=False,
    help="The direction u, one number per input, e.g. '1,0'.")]
VarsOpt = Annotated[Optional[str], typer.Option(
    "--vars", metavar="NAMES", show_default=False,
    help="Variable order, comma-separated (default: natural order, x2 before x10).")]
WrtOpt = Annotated[Optional[str], typer.Option(
    "--wrt", metavar="NAMES", show_default=False,
    help="Differentiate only with respect to these variables (the columns of J).")]
OutputOpt = Annotated[Optional[str], typer.Option(
    "--output", "-o", metavar="NAME", show_default=False,
    help="Which assigned name is the output (default: the last expression).")]
DtypeOpt = Annotated[Dtype, typer.Option(
    "--dtype", help="float64, or float32 (PyTorch's own default).")]
DeviceOpt = Annotated[str, typer.Option("--device", metavar="DEVICE",
                                        help="cpu, cuda or cuda:N.")]
SymOpt = Annotated[Symbolic, typer.Option(
    "--symbolic", help="SymPy side: auto (skipped with a notice when too big), always, never.")]
ModeOpt = Annotated[Mode, typer.Option(
    "--mode", help="How autograd builds J: rev (one VJP per output), fwd (one JVP per input), "
    "auto (the cheaper; says which and why).")]
FormatOpt = Annotated[JFormat, typer.Option("--format", "-F", help="Output format.")]
GraphFormatOpt = Annotated[GraphFormat, typer.Option(
    "--format", "-F", help="Output format: the tree, JSON, or Graphviz DOT (pipe to `dot`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
EmitOpt = Annotated[Optional[Emit], typer.Option(
    "--emit", show_default=False,
    help="Print a standalone PyTorch script that recreates the computation and calls "
    "backward(v), instead of the tables.")]
TimeoutOpt = Annotated[float, typer.Option(
    "--timeout", metavar="SECONDS", help="Time budget per stage (autograd, SymPy).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
OutFileOpt = Annotated[Optional[str], typer.Option(
    "--out-file", metavar="FILE", show_default=False,
    help="Many points: write values and J (N×m×n) or vᵀJ (N×n) as arrays to FILE (.npz, or "
    ".parquet with pyarrow) instead of JSON Lines on stdout.")]
ExplainOpt = Annotated[bool, typer.Option(
    "--explain", help="Explain in full why autograd built J in forward or reverse mode "
    "(table output).")]
PlotOpt = Annotated[Optional[str], typer.Option(
    "--plot", metavar="FILE", show_default=False,
    help="Also draw J (H for hessian; vᵀJ, J u as bars; check's errors) as a heat map into "
    "FILE (.png, .svg or .pdf). Needs matplotlib: pip install \"jacli[plot]\".")]
SeedOpt = Annotated[Optional[int], typer.Option(
    "--seed", metavar="K", show_default=False,
    help="Scripts: draw random tensors as torch.manual_seed(K) would (default 0; a "
    "manual_seed in the script wins).")]
EventOpt = Annotated[Optional[str], typer.Option(
    "--event", metavar="N", show_default=False,
    help="Scripts: which gradient event (backward, autograd.grad, ...) the tables and the "
    "JSON's top level describe: its number, 1 for the first (default: the last).")]
PrettyOpt = Annotated[bool, typer.Option(
    "--pretty", help="Unicode maths in the table's formulas: x², a·b, √(x), − (one line "
    "each).")]

# Every parameter a command may take, in --help order: (annotation, default). Which command
# takes which is ``request.command.TAKES``; ``_parameters`` builds each command's list from both.
PARAMETERS = {
    "expr": (ExprArg, None), "file": (FileOpt, None), "at": (AtOpt, None),
    "at_file": (AtFileOpt, None), "v": (VOpt, None), "u": (UOpt, None),
    "vars": (VarsOpt, None), "wrt": (WrtOpt, None), "output": (OutputOpt, None),
    "dtype": (DtypeOpt, Dtype.float64), "device": (DeviceOpt, "cpu"),
    "symbolic": (SymOpt, Symbolic.auto), "mode": (ModeOpt, Mode.auto),
    "format": (FormatOpt, JFormat.table), "json": (JsonOpt, False), "emit": (EmitOpt, None),
    "explain": (ExplainOpt, False), "timeout": (TimeoutOpt, 10.0), "debug": (DebugOpt, False),
    "out_file": (OutFileOpt, None),
    "plot": (PlotOpt, None),
    "pretty": (PrettyOpt, False),
    "seed": (SeedOpt, None), "event": (EventOpt, None),
}
OVERRIDES = {("graph", "format"): (GraphFormatOpt, GraphFormat.table),
             ("hessian", "v"): (HvOpt, None)}
