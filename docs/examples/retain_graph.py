import torch
x = torch.tensor([2.0], requires_grad=True)
y = x * x
y.backward()
y.backward()           # x * x saved x for backward: the graph is freed
