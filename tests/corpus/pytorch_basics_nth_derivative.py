# source: https://github.com/chandrareddytiyyagura/pytorch-basics (notebook, "Successive Differentiation")
# kind: from torch.autograd import grad, def with for loop, grad(create_graph=True)[0], no backward
import torch
import numpy as np
from torch.autograd import grad

def nth_derivative(f, wrt, n=2):
    for i in range(n):
        grads = grad(f, wrt, create_graph=True)[0]
        f = grads.sum()

    return grads
x= torch.tensor(5.0, requires_grad=True)
f = x**2 + x**3

# calculating double derivative
nth_derivative(f, x)
