"""``--emit torch`` for the wider vocabulary: a call as PyTorch code spells it, with every
static argument as a keyword (``F.leaky_relu(x, negative_slope=0.2)``), integer indices and
class targets as ``torch.tensor((0, 2))``, and the element taken of a tuple result
(``x.chunk(2)[1]``, ``torch.max(x, 0)[0]``). Generated from the IR only.
"""

from __future__ import annotations

_F = "torch.nn.functional."
# rows whose PyTorch spelling is not torch.<row name>
PATHS = {
    **{n: _F + n for n in (
        "leaky_relu", "elu", "gelu", "silu", "mish", "hardtanh", "relu6", "hardsigmoid",
        "hardswish", "softsign", "logsigmoid", "tanhshrink", "softplus", "softmax",
        "log_softmax", "softmin", "normalize", "pad", "mse_loss", "l1_loss", "smooth_l1_loss",
        "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity")},
    "linalg_norm": "torch.linalg.norm", "linalg_cross": "torch.linalg.cross",
    "vector_norm": "torch.linalg.vector_norm", "solve": "torch.linalg.solve",
    "max_dim": "torch.max", "min_dim": "torch.min",
}
_INDEX_TENSORS = {"index", "target"}
_METHOD_ONLY = {"expand", "repeat"}


def vocabulary_call(fn: str, args: list[str], params: dict, shape) -> str:
    """``fn(args, **params)`` as PyTorch code; ``shape`` is a ``*shape`` argument, if any."""
    if fn in ("randn_like", "rand_like", "empty_like"):  # NaN: never read before written
        return f"torch.full_like({args[0]}, math.nan)"
    pick = params.pop("pick", None)
    positional = list(args)
    if fn == "einsum":
        positional = [repr(params.pop("equation"))] + positional
    if shape is not None:
        positional.append(repr(tuple(shape[0]) if len(shape) == 1 and
                               isinstance(shape[0], tuple) else tuple(shape)))
    for name in ("target",):  # a class-index target stands where the tensor would
        if name in params:
            positional.append(f"torch.tensor({params.pop(name)!r})")
    keywords = [f"{k}={_value(k, v)}" for k, v in params.items()]
    if fn in _METHOD_ONLY:  # x.expand(2, 3): no torch.expand
        call = f"{positional[0]}.{fn}({', '.join(positional[1:] + keywords)})"
    else:
        call = f"{PATHS.get(fn, 'torch.' + fn)}({', '.join(positional + keywords)})"
    return call if pick is None else f"{call}[{pick}]"


def _value(name: str, value) -> str:
    if name in _INDEX_TENSORS:
        return f"torch.tensor({value!r})"
    if isinstance(value, float):
        return repr(float(value))
    return repr(value)
