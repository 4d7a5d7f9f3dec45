# source: https://stackoverflow.com/questions/43451125/pytorch-what-are-the-gradient-arguments/47026836 (answer, Example 2)
# kind: three scalar leaves, torch.log, backward() without gradient
import torch
a = torch.tensor(0.1, requires_grad = True)
b = torch.tensor(1.0, requires_grad = True)
c = torch.tensor(0.1, requires_grad = True)
y=3*a + 2*b*b + torch.log(c)
y.backward()
print(a.grad) # tensor(3.)
print(b.grad) # tensor(4.)
print(c.grad) # tensor(10.)
