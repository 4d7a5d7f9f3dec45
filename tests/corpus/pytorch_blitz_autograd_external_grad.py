# source: https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html (as copied in github.com/LevinJ/CodeSamples python/torch_test/test_tensors.py)
# kind: two vector leaves, 3*a**3 - b**2, backward(gradient=external_grad), equality checks
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)


Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

print(9*a**2 == a.grad)
print(-2*b == b.grad)
