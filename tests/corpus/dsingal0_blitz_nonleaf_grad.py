# source: https://github.com/dsingal0/aslOpenVINO pytorchBlitz/autograd.py
# kind: ones(2,2), mean, backward(), print(y.grad) of a non-leaf (None)
import torch
x = torch.ones(2,2,requires_grad=True)
print(x)
y = x+2
print(y)
z = y*y*3
out = z.mean()
out.backward()
print(x.grad)
print(y.grad)
