# source: https://github.com/youssef-mansor/LeNet-5 (notebook "Mastering autograd")
# kind: arange(requires_grad=True), dot, two backward calls accumulating, zero_(), backward(gradient=ones(4))
import torch
x = torch.arange(4.0, requires_grad= True)
x
x.grad
y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
x.grad == 4 * x
z = 3 * torch.dot(x, x)
z.backward()
x.grad
x.grad == (6 * x + 4 * x)
x.grad.zero_()
y = x.sum()
y.backward()
x.grad
y = x * x
x.grad.zero_()
y.backward(gradient=torch.ones(4))
x.grad
