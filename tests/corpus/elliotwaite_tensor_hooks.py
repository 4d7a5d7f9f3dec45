# source: https://github.com/elliotwaite/pytorch-hooks-tutorial/blob/master/1_tensor_hooks/2_with_hooks.py
# kind: def hook returning grad + 2, lambda hooks (print, +100, *2), retain_grad() on non-leaves, backward()
import torch


a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)

c = a * b


def c_hook(grad):
    print(grad)
    return grad + 2


c.register_hook(c_hook)
c.register_hook(lambda grad: print(grad))
c.retain_grad()

d = torch.tensor(4.0, requires_grad=True)
d.register_hook(lambda grad: grad + 100)

e = c * d

e.retain_grad()
e.register_hook(lambda grad: grad * 2)
e.retain_grad()

e.backward()
