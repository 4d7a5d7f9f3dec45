# source: public code search (a script using torch.autograd.Variable; repository not named by the index)
# kind: def f, Variable leaf, torch.autograd.grad(f(x), x), rebinding x = x * 2 (non-leaf) and grad again
import torch
import numpy as np
from torch.autograd import Variable


def f(x):
    return x ** 2


x = torch.autograd.Variable(torch.Tensor([3]), requires_grad=True)
g1 = torch.autograd.grad(f(x), x)
print(g1)
x = x * 2
g2 = torch.autograd.grad(f(x), x)
print(g2)
