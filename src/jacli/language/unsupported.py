"""PyTorch (and NumPy, math) names that jacli knows but does not support yet: one row each.

A pasted snippet often calls ``torch.autograd.grad`` or builds an ``nn.Linear``; an
"unknown function, did you mean 'rand'?" for those is false. Each row names the construct
and the nearest form jacli does support. Rows match a call's dotted name: a full prefix
(``torch.autograd.grad``), or, for methods, the last part alone (``y.register_hook``).
"""

from __future__ import annotations

from jacli.language.signatures import lookup

_BACKWARD = "write y.backward(v) for what it leaves in .grad, or run `jacli vjp` / `jacli grad`"
_JACOBIAN = "run `jacli jacobian` (or vjp, jvp, hessian) on the function's body"
_MODULE = ("write the layer as formulas, e.g. y = x @ W.T + b with "
           "W = torch.ones(3, 2, requires_grad=True)")
_STEP = "jacli shows one gradient; an SGD step is w - lr * (the vjp jacli shows)"

# dotted prefix -> the nearest supported form
PREFIXES: dict[tuple[str, ...], str] = {
    ("torch", "autograd", "grad"): _BACKWARD,
    ("torch", "autograd", "functional"): _JACOBIAN,
    ("torch", "autograd", "gradcheck"): "run `jacli check`",
    ("torch", "autograd", "gradgradcheck"): "run `jacli check`",
    ("torch", "autograd", "Function"): "write the function as formulas; jacli derives its backward",
    ("torch", "func"): _JACOBIAN,
    ("functorch",): _JACOBIAN,
    ("torch", "vmap"): "give several points: --at x=1 --at x=2",
    ("torch", "optim"): _STEP,
    ("optim",): _STEP,
    ("torch", "nn"): _MODULE,
    ("nn",): _MODULE,
    **{("torch", f): "complex numbers are not supported: jacli computes on the reals"
       for f in ("complex", "view_as_complex", "polar", "view_as_real")},
}

# method name -> the nearest supported form
METHODS: dict[str, str] = {
    "register_hook": _BACKWARD,
    "retain_grad": "jacli shows the .grad of leaves; to see the gradient with respect to "
                   "{name}, declare {name} itself: {name} = torch.tensor([...], requires_grad=True)",
    "requires_grad_": "declare the variable in one line: "
                      "{name} = torch.tensor([1.0, 2.0], requires_grad=True)",
    "zero_grad": "jacli computes each gradient fresh, as if .grad started at zero",
    "step": _STEP,
    "parameters": _MODULE,
}

# Other libraries' functions, refused with the reason PyTorch itself would give.
FOREIGN = {
    "np": "NumPy's {f} works on arrays: on a tensor that requires grad PyTorch raises "
          "\"Can't call numpy() on Tensor that requires grad\"",
    "numpy": "NumPy's {f} works on arrays: on a tensor that requires grad PyTorch raises "
             "\"Can't call numpy() on Tensor that requires grad\"",
    "math": "{f} turns a tensor into a Python float (one-element tensors only), "
            "so no gradient flows through it",
}


def unsupported(chain: list[str] | None) -> tuple[str, str] | None:
    """(message, hint) when the dotted call ``chain`` is a known but unsupported construct."""
    if not chain:
        return None
    for n in range(len(chain), 0, -1):
        hint = PREFIXES.get(tuple(chain[:n]))
        if hint == _MODULE and lookup(chain[-1].lower()) is not None:  # nn.ReLU is relu
            hint = f"write the function itself: {chain[-1].lower()}(x) or F.{chain[-1].lower()}(x)"
        if hint is not None:
            return f"{'.'.join(chain)}(...) is not supported yet", hint
    if len(chain) > 1 and chain[-1] in METHODS:
        name = chain[-2] if chain[-2].isidentifier() else "x"
        return f"{'.'.join(chain)}() is not supported yet", METHODS[chain[-1]].format(name=name)
    return None


def foreign(chain: list[str] | None, known: bool) -> tuple[str, str] | None:
    """(message, hint) for ``np.sin(x)`` / ``math.exp(x)``: the library's own meaning on a
    tensor (an error, or a float that stops the gradient) and the torch spelling.
    ``known`` says whether jacli's function table has the function's name."""
    if not chain or len(chain) != 2 or chain[0] not in FOREIGN:
        return None
    f = ".".join(chain)
    hint = (f"write torch.{chain[1]}(...) or {chain[1]}(...): jacli differentiates torch's"
            if known else "`jacli functions` lists every function jacli knows")
    return FOREIGN[chain[0]].format(f=f), hint
