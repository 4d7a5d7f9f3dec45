"""The script machine: pasted PyTorch run as PyTorch runs it, one gradient event at a time.

Owns the scripts of DESIGN §2 (``def``/``lambda``, loops and branches decided at the point,
constructors, seeded random tensors, every spelling of ``requires_grad``, nn building blocks
and optimisers, several ``backward`` calls, ``torch.autograd.grad``, the functional APIs): a
tree-walking interpreter over the validated AST that drives PyTorch's *real* graph — real
in-place writes, real aliasing, real ``.grad`` accumulation — so every number it reports for a
script is the number PyTorch computes, and PyTorch's own errors arise where PyTorch raises them.

Nothing the user typed is ever passed to ``eval``/``exec``: names resolve through the
whitelists of ``vocabulary``, attributes through per-type tables, and every statement, loop
iteration and call counts against a step budget.

Beside the real run, ``trace`` writes each differentiable operation as a line of jacli's
expression language, so one gradient event can be *replayed* as a straight-line program by
the one interpreter on both backends (SymPy formulas and exact values, vectorised autograd):
the branch taken is the branch PyTorch took, and the replay's numbers are checked against the
real run's.
"""

from jacli.runtime.script.machine import ScriptRun, run_script

__all__ = ["ScriptRun", "run_script"]
