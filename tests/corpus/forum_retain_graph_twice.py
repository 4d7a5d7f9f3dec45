# source: https://discuss.pytorch.org/t/i-tried-backward-retain-graph-true-twice/58644
# kind: backward(retain_graph=True) twice on the same output, accumulation (4.5 then 9)
import torch

x = torch.ones(2,2,requires_grad=True)

y=x+2

z=y * y * 3

out=z.mean()

out.backward(retain_graph=True)

print(x.grad)

out.backward(retain_graph=True)

print(x.grad)
