# source: https://github.com/Andrew-Ng-s-number-one-fan/Dive-into-Deep-Learning (d2l.ai Automatic Differentiation, Detaching Computation)
# kind: arange(requires_grad=True), dot, backward, zero_(), detach(), z.sum().backward(), second backward on y
import torch
x = torch.arange(4.0, requires_grad=True)
x
x.grad
y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
x.grad == 4 * x
x.grad.zero_()
y = x.sum()
y.backward()
x.grad
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
x.grad == u
x.grad.zero_()
y.sum().backward()
x.grad == 2 * x
