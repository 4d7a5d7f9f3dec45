"""Calls: a function name resolved against the signatures, its operands and static arguments.

``CallReader`` is the part of ``ExprParser`` that reads ``f(x, 2, dim=0)`` and ``x.f()``: the
callee (a leading ``torch.``/``F.`` only says where the function lives), the tensor operands,
the static parameters folded to bounded Python ints now (so ``ones(10**5, 10**5)`` is refused
before any memory is touched), and the keywords a signature accepts. Known-but-unsupported
PyTorch APIs are refused naming the construct (``unsupported``).
"""

from __future__ import annotations

import ast
import difflib

from jacli.errors import LimitError, NameLookupError
from jacli.language import ir
from jacli.language.signatures import Signature, known_names, lookup, shape_arg
from jacli.language.unsupported import foreign, unsupported

# Prefixes that only say where a function lives in PyTorch: torch.sin is sin.
NAMESPACES = {("torch",), ("torch", "nn", "functional"), ("F",), ("nn", "functional"),
              ("torch", "autograd"), ("torch", "linalg"), ("linalg",), ("torch", "special")}
DTYPES = {"float", "float32", "float64", "double", "half", "float16", "bfloat16"}
# torch.linalg functions whose defaults differ from the torch function of the same name
LINALG = {"norm": "linalg_norm", "cross": "linalg_cross"}
# calls that make an integer tensor from literal data: an index or class-target argument
INT_DATA = {"tensor", "LongTensor", "as_tensor", "IntTensor"}
COMPARE = {ast.Gt: "gt", ast.Lt: "lt", ast.GtE: "ge", ast.LtE: "le", ast.Eq: "eq",
           ast.NotEq: "ne"}


def closest(name: str, candidates) -> str:
    """A "did you mean" hint, or a pointer to the list of known functions."""
    near = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    return "`jacli functions` lists every function jacli knows"


def dotted(node: ast.expr) -> list[str] | None:
    """``torch.nn.functional.relu`` as ``["torch", "nn", "functional", "relu"]``, or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class CallReader:
    """Mixed into ``ExprParser``: uses its ``expr``, ``fail``, ``pos``, ``number``,
    ``check_attr``, ``check_elements`` and ``limits``."""

    # -- calls --------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> ir.Node:
        chain = dotted(node.func)
        if chain is None and isinstance(node.func, ast.Attribute):  # (x*2).register_hook()
            chain = ["(...)", node.func.attr]
        if isinstance(node.func, ast.Call):  # nn.ReLU()(x): the module is what is refused
            refused = unsupported(dotted(node.func.func))
            if refused:
                raise self.fail(node.func, *refused)
        refused = foreign(chain, chain is not None and lookup(chain[-1]) is not None)
        if refused:
            raise self.fail(node.func, *refused)
        name, receiver = self.callee(node.func)
        args = ([receiver] if receiver is not None else []) + list(node.args)
        if name in ("max", "min"):
            name = self.minmax(name, node, args)
        if name == "einsum":  # einsum('ij,jk->ik', a, b): the subscripts come first
            node = self.einsum_equation(node, args)
            args = args[1:]
        row = lookup(name)
        if row is None:
            refused = unsupported(chain)
            if refused:
                raise self.fail(node.func, *refused)
            raise self.fail(node.func, f"unknown function {name!r}",
                            closest(name, known_names()), NameLookupError)
        tensors, statics = self.split_args(row, node, args)
        params = self.bind_params(row, node, statics)
        if row.kind == "constructor" and tensors == []:  # zeros(10**5, 10**5): refuse now
            named = dict(params)
            if "n" in named:  # eye(n) is n×n, eye(n, m) is n×m
                shape = (named["n"], named.get("m") or named["n"])
            else:
                shape = shape_arg(named.get("*shape") or ())
            self.check_elements(node, shape)
        return ir.Call(row.name, tuple(tensors), params, self.pos(node))

    def einsum_equation(self, node: ast.Call, args: list) -> ast.Call:
        """``einsum('ij,jk->ik', a, b)``: the subscripts as the ``equation`` keyword."""
        if not args or not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
            raise self.fail(node, "einsum() takes the subscripts first, e.g. "
                            "einsum('ij,jk->ik', a, b)")
        equation = args[0].value
        if not set(equation) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,->. "):
            raise self.fail(args[0], f"einsum subscripts {equation!r} are not letters, ',' "
                            "and '->'")
        keyword = ast.keyword(arg="equation", value=args[0])
        return ast.Call(func=node.func, args=node.args, keywords=[*node.keywords, keyword],
                        lineno=node.lineno, col_offset=node.col_offset,
                        end_lineno=node.end_lineno, end_col_offset=node.end_col_offset)

    def callee(self, func: ast.expr) -> tuple[str, ast.expr | None]:
        """The function name and, for a method call ``x.f()``, the receiver ``x``."""
        if isinstance(func, ast.Name):
            if "__" in func.id:
                raise self.fail(func, f"name {func.id!r} is refused")
            return func.id, None
        if isinstance(func, ast.Attribute):
            self.check_attr(func)
            chain = dotted(func)
            if chain and tuple(chain[:-1]) in NAMESPACES:
                if chain[-2] == "linalg" and chain[-1] in LINALG:  # (torch.)linalg.norm
                    return LINALG[chain[-1]], None
                return chain[-1], None
            return func.attr, func.value
        raise self.fail(func, "only named functions can be called", "e.g. sin(x) or x.sum()")

    def minmax(self, name: str, node: ast.Call, args: list) -> str:
        """Which function ``torch.max``/``torch.min`` (or ``a.max()``) is: one tensor, the
        whole-tensor ``amax``/``amin``; two tensors, ``maximum``/``minimum``. A number as the
        second argument, or a dim=/keepdim= keyword, is torch.max(a, dim), which returns
        (values, indices): ``max_dim``, whose ``.values`` or ``[0]`` is a value, never read
        as ``maximum(a, 0)``."""
        numeric = len(args) > 1 and all(
            isinstance(n, (ast.Constant, ast.UnaryOp, ast.BinOp, ast.operator, ast.unaryop))
            for n in ast.walk(args[1]))
        if node.keywords or numeric or len(args) > 2:
            return f"{name}_dim"
        return f"a{name}" if len(args) <= 1 else f"{name}imum"

    def split_args(self, row: Signature, node: ast.Call, args: list) -> tuple[list, list]:
        low, high = row.tensors
        if low == -1:  # one list of tensors: stack([a, b], dim=0)
            if not args or not isinstance(args[0], (ast.List, ast.Tuple)):
                raise self.fail(node, f"{row.name}() takes a list of tensors, e.g. {row.name}([a, b])")
            seq = ir.ListLit(tuple(self.expr(e) for e in args[0].elts), self.pos(args[0]))
            return [seq], args[1:]
        if len(args) < low:
            raise self.fail(node, f"{row.name}() needs {low} tensor argument(s), got {len(args)}",
                            f"{row.name}: {row.doc}")
        if "target" in row.params and len(args) > low and self.int_data(args[low]):
            high = low  # cross_entropy(x, [0, 2]): class indices, a static argument
        tensors = [self.condition(a) if i == row.condition else self.expr(a)
                   for i, a in enumerate(args[:high])]
        return tensors, args[high:]

    def condition(self, node: ast.expr) -> ir.Node:
        """A comparison operand (``where(x > 0, x, 0)``, ``masked_fill(x < 0, 0)``): the only
        place the language has comparisons, so a boolean never meets arithmetic."""
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and type(node.ops[0]) in COMPARE):
            raise self.fail(node, "expected a comparison here, e.g. x > 0",
                            "the condition of where/masked_fill is written in place: "
                            "where(x > 0, x, 0)")
        return ir.Op(COMPARE[type(node.ops[0])],
                     (self.expr(node.left), self.expr(node.comparators[0])), self.pos(node))

    @staticmethod
    def int_data(node: ast.expr) -> bool:
        """Literal integer data (``[0, 2]``, ``torch.tensor([0, 2])``): indices, not values."""
        if isinstance(node, ast.Call) and (dotted(node.func) or [""])[-1] in INT_DATA:
            return bool(node.args) and CallReader.int_data(node.args[0])
        if isinstance(node, (ast.List, ast.Tuple)):
            return bool(node.elts) and all(CallReader.int_data(e) for e in node.elts)
        return isinstance(node, ast.Constant) and type(node.value) is int

    def bind_params(self, row: Signature, node: ast.Call, statics: list) -> tuple:
        names = list(row.params)
        if names and names[0].startswith("*"):
            values = [self.static(s) for s in statics]
            if not values and row.kind == "shape":
                raise self.fail(node, f"{row.name}() needs a shape, e.g. {row.name}(2, 2)")
            bound = [(names[0], tuple(values))]
        else:
            if len(statics) > len(names):
                raise self.fail(node, f"{row.name}() takes {row.tensors[1]} tensor argument(s)"
                                f"{' and ' + ', '.join(names) if names else ''}; "
                                f"got {row.tensors[1] + len(statics)} arguments",
                                f"{row.name}: {row.doc}")
            bound = [(n, self.param(row, n, s)) for n, s in zip(names, statics)]
        for kw in node.keywords:
            bound.extend(self.keyword(row, kw, names))
        return tuple(bound)

    def leaf_keywords(self, call: ast.Call) -> None:
        """Keywords of a leaf declaration: requires_grad=True/False, dtype=torch.<float>,
        device='…'; nothing else."""
        for kw in call.keywords:
            if kw.arg == "requires_grad":
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                    raise self.fail(kw.value, "requires_grad= must be True or False")
            elif kw.arg in ("dtype", "device"):
                self.keyword(lookup("zeros"), kw, [])
            else:
                raise self.fail(kw.value, f"keyword {kw.arg!r} is not supported here",
                                "a variable is declared with requires_grad=True, dtype=, device=")

    def keyword(self, row: Signature, kw: ast.keyword, names: list[str]) -> list:
        key = "dim" if kw.arg == "axis" else kw.arg
        if key is None or kw.arg not in row.keywords:
            raise self.fail(kw.value, f"{row.name}() takes no keyword {kw.arg!r}",
                            f"it accepts: {', '.join(sorted(row.keywords)) or 'none'}")
        if key == "requires_grad":
            raise self.fail(kw.value, f"torch.{row.name}(..., requires_grad=True) declares a "
                            "variable only as the whole right side of an assignment",
                            f"declare it first, then use the name: w = torch.{row.name}"
                            "(..., requires_grad=True)")
        if key == "dtype":
            chain = dotted(kw.value) or []
            if not (chain and chain[-1] in DTYPES and tuple(chain[:-1]) in NAMESPACES):
                raise self.fail(kw.value, "dtype= must be a torch floating dtype",
                                "e.g. dtype=torch.float64 (jacli computes in --dtype anyway)")
            return []  # jacli computes in --dtype; the snippet's choice is not used
        if key == "device":
            if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)):
                raise self.fail(kw.value, "device= must be a string such as 'cpu'",
                                "jacli computes on --device")
            return []
        return [(key, self.param(row, key, kw.value))]

    # -- static arguments ---------------------------------------------------------------
    def param(self, row: Signature, name: str, node: ast.expr):
        """A static argument as the signature reads it: a string (``reduction='sum'``), an
        exact number (``beta=2``, ``min=-0.5``), else an int, bool or tuple of ints."""
        if name in row.strings and isinstance(node, ast.Constant) and \
                isinstance(node.value, str):
            return node.value
        if name in row.reals and not (isinstance(node, ast.Constant) and node.value is None):
            return self.real(node)
        if name in row.strings:
            raise self.fail(node, f"{row.name}(): {name}= must be a string here",
                            f"{row.name}: {row.doc}")
        return self.static(node)

    def real(self, node: ast.expr) -> ir.Real:
        """A number written as a literal (``0.2``, ``-1``, ``1e-8``, ``2/3``), exact."""
        return ir.Real(self._exact(node))

    def _exact(self, node: ast.expr):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self._exact(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            den = self._exact(node.right)
            if den == 0:
                raise self.fail(node, "division by zero in a constant argument")
            return self._exact(node.left) / den
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.number(node)
        raise self.fail(node, "expected a number here", "e.g. beta=2, negative_slope=0.2")

    def static(self, node: ast.expr):
        """An int, bool, None, or tuple of ints known without evaluating anything
        (``torch.tensor([0, 2])`` of integers is its tuple: an index argument)."""
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.static(e) for e in node.elts)
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or node.value is None):
            return node.value
        if isinstance(node, ast.Call) and self.int_data(node):
            return self.static(node.args[0])
        return self.static_int(node)

    def static_int(self, node: ast.expr) -> int:
        value = self._fold(node)
        if abs(value) > self.limits.static_int:
            raise self.fail(node, f"{value} is larger than the limit {self.limits.static_int}",
                            "shapes, dims and indices must be modest integers", LimitError)
        return value

    def _fold(self, node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            self.number(node)  # same literal rules as everywhere else
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self._fold(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.Pow):
            a, b = self._fold(node.left), self._fold(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if b < 0 or b * max(abs(a), 2).bit_length() > 64:
                raise self.fail(node, "this integer power is too large for a shape or index",
                                cls=LimitError)
            return a**b
        raise self.fail(node, "expected an integer constant here",
                        "shapes, dims and indices are integers, e.g. x[0], x.view(2, 2)")
