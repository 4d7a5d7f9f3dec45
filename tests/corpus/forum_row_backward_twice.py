# source: PyTorch forums "Why does .backward(retain_graph=True) give different values each time it is called?" (debugging step; forum text as mirrored in the Nemotron-CC-Math web-text collection)
# kind: empty(3) + subscript assignment, y[0].backward(retain_graph=True) twice (6 then 12)
from torch import tensor, empty, zeros

x = tensor([1., 2.], requires_grad=True)
y = empty(3)
y[0] = 3 * x[0]**2
y[1] = x[0]**2 + 2 * x[1]**3
y[2] = 10 * x[1]
y[0].backward(retain_graph=True)
print(x.grad)  # tensor([6., 0.])

y[0].backward(retain_graph=True)
print(x.grad)  # tensor([12., 0.])
