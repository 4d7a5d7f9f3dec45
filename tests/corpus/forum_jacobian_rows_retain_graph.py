# source: PyTorch forums "Why does .backward(retain_graph=True) give different values each time it is called?" (Sep 2020; forum text as mirrored in the Nemotron-CC-Math web-text collection)
# kind: from torch import tensor, empty, zeros; empty(3) filled by subscript assignment; for loop of y.backward(e_i, retain_graph=True); J[i,:] = x.grad (accumulating)
from torch import tensor, empty, zeros

x = tensor([1., 2.], requires_grad=True)
y = empty(3)
y[0] = 3 * x[0]**2
y[1] = x[0]**2 + 2 * x[1]**3
y[2] = 10 * x[1]
J = zeros((y.shape[0], x.shape[0]))
for i in range(y.shape[0]):
    xU = zeros(y.shape[0])
    xU[i] = 1.0
    y.backward(xU, retain_graph=True)
    J[i,:] = x.grad
