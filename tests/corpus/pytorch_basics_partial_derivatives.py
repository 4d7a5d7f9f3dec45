# source: https://github.com/chandrareddytiyyagura/pytorch-basics (notebook, "Partial derivative")
# kind: two scalar leaves, rebinding x and y, two separate graphs, backward() twice, grad_fn display
import torch
import numpy as np
x = torch.tensor(5.0, requires_grad=True)
y = torch.tensor(5.0, requires_grad=True)
f = x **2 + y**2
f.backward()
f.grad_fn
x.grad # Partial derivative wrt x
y.grad # partial derirvative wrt y
x = torch.tensor(5.0, requires_grad=True)
y = torch.tensor(5.0, requires_grad=True)
f2 = x**2 * y**2
f2.backward()
f2.grad_fn
x.grad
y.grad
