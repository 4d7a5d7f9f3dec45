# source: https://stackoverflow.com/questions/56816241/difference-between-detach-and-with-torch-nograd-in-pytorch (answer, torch.no_grad part)
# kind: ones(2, requires_grad=True), with torch.no_grad() block, print(y.requires_grad); no gradient call
import torch
x=torch.ones(2, requires_grad=True)
with torch.no_grad():
    y = x * 2
print(y.requires_grad)
