# source: https://github.com/regmi-saugat/Dive_IntoDeepLearning (d2l.ai 2.5.1 A Simple Function, notebook)
# kind: arange + requires_grad_(), dot, backward(), accumulation reset with x.grad.zero_(), second backward
import torch

x = torch.arange(4.0)
x
x.requires_grad_(True)
x.grad
y = 2 * torch.dot(x, x)
y
#@ Take the gradient of Y with respect to x 
y.backward()
x.grad
x.grad == 4*x
x.grad.zero_()    # Reset the gradient
y = x.sum()
y.backward()
x.grad
