# source: a micrograd lecture write-up ("Using PyTorch" section; found via public code search, repository not named by the index)
# kind: .double(), x.requires_grad_() statement form, b without grad, tanh, backward(), .item()
import torch
x1 = torch.Tensor([2.0]).double(); x1.requires_grad_()
x2 = torch.Tensor([0.0]).double(); x2.requires_grad_()
w1 = torch.Tensor([-3.0]).double(); w1.requires_grad_()
w2 = torch.Tensor([1.0]).double(); w2.requires_grad_()

b = torch.Tensor([6.8813735870195432]).double()

n = x1 * w1 + x2 * w2 + b
o = torch.tanh(n)
o.backward()

print(o.item())
print("------")
print("x1", x1.grad.item())
print("x2",x2.grad.item())
print("w1",w1.grad.item())
print("w2", w2.grad.item())
