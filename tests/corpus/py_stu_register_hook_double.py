# source: https://github.com/lixixi89055465/py_stu wuenda/GAN/test5.py (the torch.Tensor.register_hook docs example)
# kind: leaf register_hook(lambda grad: grad * 2), backward(v) on the leaf itself
import torch
from torch import nn

v = torch.tensor([0., 0., 0.], requires_grad=True)
h = v.register_hook(lambda grad: grad * 2)  # double the gradient
v.backward(torch.tensor([1., 2., 3.]))
print(v.grad)
