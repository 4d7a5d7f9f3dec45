# source: https://github.com/asad14053/Machine-Learning-and-Deep-Learning (Autograd notebook, first example)
# kind: 2x2 literal leaf, x*x, sum, backward()
import torch
x = torch.tensor([[1., 1.], [2., 2.]], requires_grad=True)
print(x)
y = x*x
print(y)

z = y.sum()

print(z)

z.backward()
print(x.grad)
