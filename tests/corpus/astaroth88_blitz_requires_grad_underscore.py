# source: https://github.com/astaroth88/learning_pytorch_basics (autograd notebook, cells 1-9)
# kind: ones(2,2), grad_fn, randn (gradient-irrelevant) + requires_grad_(True), out.backward()
import torch
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y*y*3
out = z.mean()

print(z, out)
a = torch.randn(2, 2)
a = ((a*3)/(a-1))
print(a.requires_grad)

a.requires_grad_(True)

print(a.requires_grad)

b = (a*a).sum()
print(b.grad_fn)
out.backward()
print(x.grad)
