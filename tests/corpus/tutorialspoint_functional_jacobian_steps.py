# source: "How to Compute the Jacobian of a Given Function in PyTorch" (tutorial steps 1-5, text as mirrored in the Nemotron-CC-Math web-text collection)
# kind: from torch.autograd.functional import jacobian, def func elementwise polynomial, jacobian(func, input) of a non-leaf input
import torch
from torch.autograd.functional import jacobian
def func(x):
    return x**3 + 4*x - 10
input = torch.tensor([2., 3., 4.])
output = jacobian(func, input)
print("Jacobians Tensor:\n", output)
