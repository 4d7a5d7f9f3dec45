import torch
x = torch.tensor([1.5, -0.5], requires_grad=True)
y = (x ** 3).sum()
g, = torch.autograd.grad(y, x, create_graph=True)   # 3x², still differentiable
g.sum().backward()                                  # x.grad = 6x
