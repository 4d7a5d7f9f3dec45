"""jacli: the Jacobian behind ``y.backward(v)``, symbolic and numeric, side by side.

The importable API returns the same ``Result`` the CLI renders::

    from jacli import jacobian, vjp, grad
    r = vjp("2*x1+x2**2, x1**2+2*x2**3", at="1,2", v="1,2")
    r.vjp.numeric        # [6.0, 52.0]

Values need not be text: ``at`` also maps variable names to torch tensors, NumPy arrays,
nested lists or numbers, and ``v``/``u`` take a tensor or an array (``u`` also a mapping by
variable), so a 256×256 weight matrix is never formatted and re-parsed::

    r = jacobian("tanh(W @ x + b)", at={"W": W, "x": x, "b": b}, wrt="x")

A float is taken at its own binary value, exactly (``0.1`` is the double nearest 1/10); give
the text ``"0.1"`` (or ``Fraction(1, 10)``) for the decimal. Parsed programs and their
symbolic Jacobians are cached per process, so the API in a loop pays for them once.

In Jupyter a cell ending in ``r`` shows the terminal's side-by-side tables (``jacli.display``);
``latex=True`` also typesets the formulas with SymPy.

Importing ``jacli`` is cheap: torch and SymPy load on the first computation.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Problem", "compute", "jacobian", "vjp", "jvp", "grad", "hessian", "JacliError",
           "__version__"]


def __getattr__(name: str):
    # Lazy: `jacli --help` imports this package and must not pay for SymPy or torch.
    if name == "Problem":
        from jacli.request.problem import Problem

        return Problem
    if name == "compute":
        from jacli.analysis.compute import compute
        from jacli.display import shown

        return shown(compute)  # the same Result, able to display itself in Jupyter
    if name == "JacliError":
        from jacli.errors import JacliError

        return JacliError
    raise AttributeError(f"module 'jacli' has no attribute {name!r}")


def _call(command: str, source: str, at=None, v=None, **options):
    """The CLI's checks, then ``compute``: an option the command does not take is refused.
    ``at``: a text (``"1,2"``), a list of texts (``["x=[1,2]", "y=3"]``) or a mapping from
    variable names to tensors, arrays, nested lists, numbers or texts."""
    from jacli.analysis.compute import compute
    from jacli.display import Shown
    from jacli.request.problem import build

    given = [*options, *(["v"] if v is not None else [])]
    return Shown.of(compute(build(command, source, at=at, v=v, given=given, **options)))


def jacobian(source: str, at=None, **options):
    """J of ``source`` at ``at`` (``"1,2"``, ``["x=[1,2]"]`` or ``{"x": tensor}``); returns a
    ``Result``."""
    return _call("jacobian", source, at, None, **options)


def vjp(source: str, at=None, v=None, **options):
    """vᵀJ, i.e. what ``y.backward(v)`` leaves in ``.grad``; ``v`` a text, a list, a tensor or
    an array of the output's shape; returns a ``Result``."""
    return _call("vjp", source, at, v, **options)


def jvp(source: str, at=None, u=None, **options):
    """J u, the forward-mode product; ``u`` one number per input (a text, a list, a tensor,
    an array, or a mapping from the ``wrt`` variables to their parts); returns a ``Result``."""
    return _call("jvp", source, at, None, **({"u": u} if u is not None else {}), **options)


def hessian(source: str, at=None, **options):
    """H of a scalar output (and H v with ``v=``); returns a ``Result``."""
    return _call("hessian", source, at, options.pop("v", None), **options)


def grad(source: str, at=None, **options):
    """The gradient of a scalar output (``y.backward()``); returns a ``Result``."""
    return _call("grad", source, at, None, **options)
