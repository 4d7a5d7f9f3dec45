import torch
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * 2
z = y * y
z.mean().backward()    # x.grad = d mean(4x²)/dx = 8x/3
x.sum().backward()     # adds 1 to every entry: gradients accumulate
