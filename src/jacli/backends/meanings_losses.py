"""Meanings of the losses (``torch.nn.functional.*_loss`` and friends, see
``language.vocabulary``): SymPy on object arrays beside the torch function itself.

Each loss is elementwise terms, then ``reduction=`` ('mean' over all elements, 'sum',
'none'). Kinks follow PyTorch's backward: ``l1_loss`` has gradient sign(d) (0 at 0),
``smooth_l1_loss``/``huber_loss`` switch branch strictly outside ±beta/±delta.
Class-index targets are static tuples of ints (``cross_entropy(x, [0, 2])``).
"""

from __future__ import annotations

import numpy as np

from jacli.backends.lazy import torch, sympy as sp, object_arrays as oa, sym_extra as sx
from jacli.backends.meanings_pointwise import fl


def _terms(term):
    """A loss from its elementwise ``term(d_input, target, **params)``, then the reduction."""
    def sym(B, x, t, reduction="mean", **params):
        exact = {k: sx.q(v) for k, v in params.items()}
        pair = np.frompyfunc(lambda a, b: term(a, b, **exact), 2, 1)
        return sx.reduction(oa.broadcasting(pair)(np.asarray(x), np.asarray(t)), reduction)

    return sym


def _smooth_l1(x, t, beta=1):
    d = x - t
    if beta == 0:
        return sp.Abs(d)
    return sp.Piecewise((d - beta / 2, d > beta), (-d - beta / 2, d < -beta),
                        (d**2 / (2 * beta), True))


def _huber(x, t, delta=1):
    d = x - t
    return sp.Piecewise((delta * (d - delta / 2), d > delta),
                        (delta * (-d - delta / 2), d < -delta), (d**2 / 2, True))


def _xlogx(t):
    """t*log(t), 0 at t = 0 (torch's xlogy)."""
    if t.is_number:
        return sp.S.Zero if t.is_zero else t * sp.log(t)
    return sp.Piecewise((0, sp.Eq(t, 0)), (t * sp.log(t), True))


def _kl_div(B, x, t, reduction="mean", log_target=False):
    term = (lambda a, b: sp.exp(b) * (b - a)) if log_target else \
        (lambda a, b: _xlogx(b) - b * a)
    v = oa.broadcasting(np.frompyfunc(term, 2, 1))(np.asarray(x), np.asarray(t))
    if reduction == "batchmean":
        return oa.obj(sx.total(v) / (np.shape(v)[0] if np.ndim(v) else 1))
    return sx.reduction(v, reduction)


def _classes(x, target, log_probs):
    """-log p[n, target[n]] per sample, as torch's (N, C) or (C,) input."""
    x = np.asarray(x)
    logp = log_probs(x)
    if x.ndim == 1:
        return oa.obj(-logp[int(target)]), None
    target = np.asarray(target)
    if target.shape != x.shape[:1] + x.shape[2:]:
        raise RuntimeError(f"Expected target size {list(x.shape[:1] + x.shape[2:])}, got "
                           f"{list(target.shape)}")
    moved = np.moveaxis(logp, 1, -1)
    out = np.empty(target.shape, dtype=object)
    for idx in np.ndindex(*target.shape):
        c = int(target[idx])
        if not 0 <= c < x.shape[1]:
            raise IndexError(f"Target {c} is out of bounds.")
        out[idx] = -moved[idx][c]
    return oa.obj(out), None


def _log_softmax(x):
    from jacli.backends.meanings_tensor import _softmax

    return np.asarray(_softmax(1, True)(None, x, 1 if np.ndim(x) > 1 else 0))


def _cross_entropy(B, x, probs=None, target=None, reduction="mean"):
    if target is None:  # probabilities over the class dim
        logp = _log_softmax(x)
        v = -(np.asarray(probs) * logp)
        v = v.sum(axis=1) if np.ndim(x) > 1 else oa.obj(sx.total(v))
        return sx.reduction(v, reduction)
    return sx.reduction(_classes(x, target, _log_softmax)[0], reduction)


def _nll(B, x, target, reduction="mean"):
    return sx.reduction(_classes(x, target, lambda a: a)[0], reduction)


def _torch_classes(name: str):
    def run(B, x, probs=None, target=None, reduction="mean"):
        if target is not None:
            probs = torch.tensor(target, device=x.device)
        return getattr(torch.nn.functional, name)(x, probs, reduction=reduction)

    return run


def _F(name: str):
    return lambda B, *t, **kw: getattr(torch.nn.functional, name)(
        *t, **{k: fl(v) for k, v in kw.items()})


def _cosine(B, a, b, dim=1, eps=None):
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    dot = sx.reduce_dims(lambda v: sp.Add(*v), a * b, dim, False)
    na = sx.reduce_dims(lambda v: sp.sqrt(sp.Add(*(x**2 for x in v))), a, dim, False)
    nb = sx.reduce_dims(lambda v: sp.sqrt(sp.Add(*(x**2 for x in v))), b, dim, False)
    return oa.obj(dot / (na * nb))


def _meanings(Meaning) -> dict:
    return {
        "mse_loss": Meaning(_terms(lambda x, t: (x - t) ** 2), _F("mse_loss")),
        "l1_loss": Meaning(_terms(lambda x, t: sp.Abs(x - t)), _F("l1_loss")),
        "smooth_l1_loss": Meaning(_terms(_smooth_l1), _F("smooth_l1_loss")),
        "huber_loss": Meaning(_terms(_huber), _F("huber_loss")),
        "binary_cross_entropy": Meaning(
            _terms(lambda x, t: -(t * sp.log(x) + (1 - t) * sp.log(1 - x))),
            _F("binary_cross_entropy"), (0.1, 0.9)),
        "binary_cross_entropy_with_logits": Meaning(
            _terms(lambda x, t: (1 - t) * x + sp.log(1 + sp.exp(-x))),
            _F("binary_cross_entropy_with_logits")),
        "kl_div": Meaning(_kl_div, _F("kl_div"), (0.1, 2.0)),
        "cross_entropy": Meaning(_cross_entropy, _torch_classes("cross_entropy")),
        "nll_loss": Meaning(_nll, lambda B, x, target, reduction="mean":
                            torch.nn.functional.nll_loss(
                                x, torch.tensor(target, device=x.device), reduction=reduction)),
        "cosine_similarity": Meaning(_cosine, _F("cosine_similarity"), (0.5, 2.0)),
    }
