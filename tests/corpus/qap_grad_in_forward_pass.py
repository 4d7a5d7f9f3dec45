# source: https://github.com/qAp/python_examples ("Autograd example: grad in forward pass")
# kind: from torch.autograd import grad, backward(retain_graph=True), grad(create_graph=True)[0] twice, backward of a function of derivatives, accumulation
import torch
from torch.autograd import grad
x = torch.tensor(3., requires_grad=True)
m = x**2
y = m + x
p = 4*y
p.backward(retain_graph=True)
x.grad
dydx = grad(outputs=y, inputs=x, create_graph=True)[0]
dydx
dmdx = grad(outputs=m, inputs=x, create_graph=True)[0]
dmdx
z = dydx**2 + dmdx**2
z
z.backward()
x.grad
