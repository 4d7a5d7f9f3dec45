# source: https://github.com/Dr-andai/hopfield_is_all_you_need (d2l.ai 2.5 autograd notebook, non-scalar backward)
# kind: arange, requires_grad_(), dot, backward(), zero_(), backward(gradient=ones(len(y)))
##
"""
Interested in differentiating y = 2XTX
with respect to the column vector X
"""
import torch

x = torch.arange(4.0)
x
x.requires_grad_(True)
x.grad
y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
"""
When y is a vector, the most natural representation of the derivative of y 
with respect to a vector x is a matrix called the Jacobian that contains 
the partial derivatives of each component of y with respect to each component of x. 
"""

x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))  # Faster: y.sum().backward()
x.grad
