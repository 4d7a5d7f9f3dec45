# source: https://github.com/chandrareddytiyyagura/pytorch-basics (notebook, first backward)
# kind: scalar leaf, x ** 3, backward(), x.grad display line
import torch
import numpy as np
x = torch.tensor(5.0, requires_grad=True)
x
y = x ** 3
y
y.backward()
x.grad
