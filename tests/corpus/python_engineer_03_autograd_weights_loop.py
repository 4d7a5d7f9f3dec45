# source: https://github.com/patrickloeber/pytorchTutorial/blob/master/03_autograd.py (Python Engineer PyTorch course; the deterministic last section, with the file's import)
# kind: ones(4, requires_grad=True), for loop of backward() on (weights*3).sum(), no_grad in-place update, weights.grad.zero_()
import torch
# -------------
# with backward() the gradient for this tensor will be accumulated into .grad attribute.
# !!! We need to be careful during optimization !!!
# Use .zero_() to empty the gradients before a new optimization step!
weights = torch.ones(4, requires_grad=True)

for epoch in range(3):
    # just a dummy example
    model_output = (weights*3).sum()
    model_output.backward()
    
    print(weights.grad)

    # optimize model, i.e. adjust weights...
    with torch.no_grad():
        weights -= 0.1 * weights.grad

    # this is important! It affects the final weights & output
    weights.grad.zero_()

print(weights)
print(model_output)
