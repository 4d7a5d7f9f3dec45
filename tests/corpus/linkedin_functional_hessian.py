# source: https://github.com/LinkedInLearning/hands-on-ai-pytorch-machine-learning-4007017 (notebook cell 4)
# kind: from torch.autograd.functional import hessian, def f(x) with x[0], x[1] indexing, hessian(f, x)
import torch
# Compute Jacobian and Hessian

from torch.autograd.functional import hessian

def f(x):
    return (x[0] ** 2 + x[1] ** 3)

x = torch.tensor([1.0, 2.0], requires_grad=True)
hess = hessian(f, x)
print("Hessian matrix:\n", hess)
