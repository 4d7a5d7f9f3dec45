# source: https://github.com/asad14053/Machine-Learning-and-Deep-Learning (Autograd notebook, "Let us see another example")
# kind: two vector leaves, 2*a**3 - b**2, backward(gradient=e_grad), print(a.grad, b.grad)
import torch
a = torch.tensor([1., 2.], requires_grad=True)
b = torch.tensor([3., 4.], requires_grad=True)
Q = 2*a**3 - b**2
print(Q)
e_grad = torch.tensor([1., 1.])
Q.backward(gradient=e_grad)
print(a.grad, b.grad)
