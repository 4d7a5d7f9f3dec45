# source: https://github.com/antoinechoffrut/fastai-companion ("Computing gradients and derivatives in PyTorch", multiple points)
# kind: linspace(requires_grad=True), x**2, ones_like gradient, backward(gradient)
# collapse-hide
import torch
x = torch.linspace(-2, 2, 5, requires_grad=True)
y = x**2
gradient = torch.ones_like(y)
y.backward(gradient)
print("Derivative at multiple points:")
print(x.grad.data)
