"""What a script may name: modules, their members, tensor methods and attributes, builtins.

Whitelists only: a name not listed here is refused with one line naming it, so the script
machine never reaches a library attribute by walking (``torch.__dict__``, ``os``). The real
objects (``torch.sin``, ``torch.nn.Linear``) are looked up only after the name passed, and
they compute with values the script made — never with text.
"""

from __future__ import annotations

_POINTWISE = """abs absolute acos acosh add addcdiv addcmul arccos arccosh arcsin arcsinh arctan
arctan2 arctanh asin asinh atan atan2 atanh ceil clamp clamp_max clamp_min clip cos cosh deg2rad
div divide erf erfc erfinv exp exp2 expm1 float_power floor fmod frac heaviside hypot lerp lgamma
log log10 log1p log2 logaddexp logit maximum minimum mul multiply neg negative pow rad2deg
reciprocal remainder round rsqrt sigmoid sign sin sinc sinh sqrt square sub subtract tan tanh
true_divide trunc xlogy relu softmax log_softmax where nan_to_num""".split()
_REDUCE = """all amax amin any argmax argmin count_nonzero cummax cummin cumprod cumsum dist
logcumsumexp logsumexp max mean median min nanmean nansum norm prod std std_mean sum var var_mean
trace""".split()
_LINALG = """bmm cross det diag diag_embed diagonal dot einsum inner inverse kron matmul mm mv
outer tensordot tril triu vdot cdist baddbmm addmm addmv""".split()
_SHAPE = """broadcast_to cat chunk concat flatten flip fliplr flipud gather index_select
masked_fill masked_select movedim narrow permute repeat_interleave reshape roll split squeeze
stack swapaxes t take take_along_dim tile transpose unbind unsqueeze hstack vstack
column_stack meshgrid scatter scatter_add select clone detach numel""".split()
_MAKE = """tensor Tensor FloatTensor DoubleTensor LongTensor IntTensor as_tensor from_numpy arange
linspace logspace zeros ones full empty eye zeros_like ones_like full_like empty_like rand randn
randint normal rand_like randn_like randint_like randperm bernoulli manual_seed seed
set_default_dtype get_default_dtype is_tensor allclose equal isclose isfinite isnan isinf
no_grad enable_grad set_grad_enabled is_grad_enabled device diagflat tril_indices
triu_indices""".split()

_F = """relu relu6 leaky_relu elu selu celu gelu silu mish hardtanh hardsigmoid hardswish
softsign softplus logsigmoid sigmoid tanh softmax log_softmax softmin normalize linear
bilinear mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss
binary_cross_entropy binary_cross_entropy_with_logits kl_div cosine_similarity pad one_hot
dropout pairwise_distance""".split()
_NN = """Linear Bilinear ReLU ReLU6 LeakyReLU ELU SELU CELU GELU SiLU Mish Tanh Sigmoid Softmax
LogSoftmax Softplus Softsign Hardtanh Identity Flatten Sequential ModuleList MSELoss L1Loss
SmoothL1Loss HuberLoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss KLDivLoss Parameter
Module Dropout""".split()

MODULES: dict[str, frozenset[str]] = {
    "torch": frozenset(_POINTWISE + _REDUCE + _LINALG + _SHAPE + _MAKE),
    "torch.nn": frozenset(_NN),
    "torch.nn.functional": frozenset(_F),
    "torch.nn.init": frozenset("zeros_ ones_ constant_ normal_ uniform_ eye_ xavier_uniform_ "
                               "xavier_normal_ kaiming_uniform_ kaiming_normal_".split()),
    "torch.optim": frozenset({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}),
    "torch.autograd": frozenset({"grad", "backward", "Variable", "Function"}),
    "torch.autograd.functional": frozenset({"jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"}),
    "torch.func": frozenset({"grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd",
                             "hessian", "vmap"}),
    "torch.linalg": frozenset({"norm", "vector_norm", "matrix_norm", "det", "inv", "solve",
                               "svdvals", "slogdet", "cross", "multi_dot", "matrix_power"}),
    "torch.random": frozenset({"manual_seed", "seed"}),
    "torch.cuda": frozenset({"is_available", "device_count", "manual_seed",
                             "manual_seed_all"}),
    "numpy": frozenset({"array", "asarray", "linspace", "arange", "zeros", "ones", "exp", "log",
                        "sin", "cos", "tan", "sqrt", "tanh", "abs", "sum", "mean", "dot",
                        "allclose", "eye", "float32", "float64", "random"}),
    "numpy.random": frozenset({"seed", "rand", "randn", "uniform", "normal"}),
    "math": frozenset({"exp", "log", "log2", "log10", "sin", "cos", "tan", "sqrt", "tanh",
                       "pow", "fabs", "floor", "ceil", "atan", "asin", "acos", "isclose",
                       "sinh", "cosh", "isfinite"}),
}

# modules a script may import, by the name it imports, as the canonical path above
IMPORTABLE = {
    "torch": "torch", "torch.nn": "torch.nn", "torch.nn.functional": "torch.nn.functional",
    "torch.optim": "torch.optim", "torch.autograd": "torch.autograd",
    "torch.autograd.functional": "torch.autograd.functional", "torch.func": "torch.func",
    "functorch": "torch.func", "torch.linalg": "torch.linalg", "torch.nn.init": "torch.nn.init",
    "numpy": "numpy", "math": "math", "torch.random": "torch.random",
}
# modules whose every call only shows something: imported, their calls skipped
DISPLAY_MODULES = ("matplotlib", "matplotlib.pyplot", "d2l", "d2l.torch", "IPython",
                   "IPython.display", "seaborn", "torchviz", "pprint", "time", "warnings",
                   "sys", "random", "functools", "typing", "__future__")

SUBMODULES = {f"{parent}.{child}" for parent in MODULES for child in
              ("nn", "optim", "autograd", "func", "linalg", "random", "cuda", "functional",
               "init")} & set(MODULES)

CONSTANTS = {
    "torch.pi": ("math", "pi"), "torch.e": ("math", "e"), "torch.inf": ("math", "inf"),
    "torch.nan": ("math", "nan"), "math.pi": ("math", "pi"), "math.e": ("math", "e"),
    "math.inf": ("math", "inf"), "numpy.pi": ("math", "pi"), "numpy.e": ("math", "e"),
    **{f"torch.{d}": ("dtype", d) for d in ("float32", "float64", "float", "double", "float16",
                                             "half", "bfloat16", "int64", "long", "int32",
                                             "int", "int16", "int8", "uint8", "bool",
                                             "complex64", "complex128", "cfloat", "cdouble")},
}

TENSOR_ATTRIBUTES = frozenset({"grad", "data", "shape", "T", "mT", "H", "requires_grad",
                               "is_leaf", "grad_fn", "dtype", "device", "ndim", "real",
                               "imag", "retains_grad", "is_cuda", "names"})

# methods that compute a new tensor (or a Python value) from a tensor: called on the real one
TENSOR_METHODS = frozenset(
    _POINTWISE + _REDUCE + _LINALG + _SHAPE +
    """view view_as reshape_as expand expand_as repeat contiguous size dim item tolist numpy
    float double half long int bool to type type_as cpu cuda new_tensor new_zeros new_ones
    new_full new_empty clamp_ norm sum_to_size unfold index_add index_copy index_fill
    masked_scatter nonzero sort topk argsort eq ne lt le gt ge equal isclose allclose
    abs_ add_ sub_ mul_ div_ pow_ neg_ exp_ log_ sqrt_ sin_ cos_ tanh_ sigmoid_ relu_ clamp_
    zero_ fill_ copy_ uniform_ normal_ requires_grad_ retain_grad register_hook backward
    detach_ squeeze_ unsqueeze_ t_ transpose_ fill_diagonal_ masked_fill_ index_put_
    scatter_ apply_ element_size nelement is_contiguous storage_offset stride
    data_ptr is_floating_point is_complex""".split()) - {"data_ptr", "apply_"}

IN_PLACE = frozenset(m for m in TENSOR_METHODS if m.endswith("_") and not m.startswith("_"))

# no getattr/hasattr/format/iter: attribute walks by string, iter(f, sentinel) never ends
BUILTINS = frozenset({"range", "len", "zip", "enumerate", "list", "tuple", "dict", "float",
                      "int", "bool", "abs", "min", "max", "sum", "round", "sorted",
                      "reversed", "any", "all", "str", "isinstance", "pow", "divmod", "map",
                      "filter", "set", "repr", "super", "print", "display", "type", "id"})
SHOW_ONLY = frozenset({"print", "display", "repr"})
