import torch
x = torch.ones(2,2,requires_grad=True)
print(x)
print(x.grad_fn)
y = x + 2
print(y)
print(y.grad_fn)
print(x.is_leaf, y.is_leaf) # True False
z = y * y * 3
out = z.mean()
print(z, out)
out.backward() # 等价于 out.backward(torch.tensor(1.))
print(x.grad)
