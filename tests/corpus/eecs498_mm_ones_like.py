# source: https://github.com/HuangHuangZhengZheng/EECS498-007 (autograd notes, "非标量输出")
# kind: torch.Tensor literal, x.requires_grad = True attribute, x.mm(z), backward(torch.ones_like(y))
import torch
z = torch.ones(2,1)
x = torch.Tensor([[2, 3], [1, 2]])
x.requires_grad = True
y = x.mm(z)
y
y.backward(torch.ones_like(y))
x.grad
