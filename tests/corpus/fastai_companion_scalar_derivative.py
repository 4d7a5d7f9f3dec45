# source: https://github.com/antoinechoffrut/fastai-companion ("Computing gradients and derivatives in PyTorch", first example)
# kind: scalar tensor, x**2, backward(), x.grad.data
# collapse-hide
import torch
x = torch.tensor(1., requires_grad=True)
y = x**2
y.backward()
print(f"Derivative at a single point:")
print(x.grad.data)
