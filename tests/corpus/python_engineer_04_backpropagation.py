# source: https://github.com/patrickloeber/pytorchTutorial/blob/master/04_backpropagation.py (Python Engineer PyTorch course)
# kind: constant tensors + scalar weight leaf, squared loss, backward(), no_grad in-place update w -= lr*w.grad, w.grad.zero_()
import torch

x = torch.tensor(1.0)
y = torch.tensor(2.0)

# This is the parameter we want to optimize -> requires_grad=True
w = torch.tensor(1.0, requires_grad=True)

# forward pass to compute loss
y_predicted = w * x
loss = (y_predicted - y)**2
print(loss)

# backward pass to compute gradient dLoss/dw
loss.backward()
print(w.grad)

# update weights
# next forward and backward pass...

# continue optimizing:
# update weights, this operation should not be part of the computational graph
with torch.no_grad():
    w -= 0.01 * w.grad
# don't forget to zero the gradients
w.grad.zero_()

# next forward and backward pass...
