# source: https://runebook.dev/en/docs/pytorch/generated/torch.func.jacrev ("Efficient Gradient Computation ... with torch.func.jacrev", simple example)
# kind: def R^2 -> R^3 with torch.stack of indexed expressions, torch.func.jacrev(f)(x) on a plain tensor, f-string prints
import torch

# 1. Define a function: R^2 -> R^3
def my_function(x):
    # x is a tensor of shape (2,)
    # Output is a tensor of shape (3,)
    return torch.stack([
        x[0]**2,
        x[1] * torch.sin(x[0]),
        x[0] + x[1]
    ])

x = torch.tensor([1.0, 2.0])

# Compute the Jacobian
# The result will be (3, 2)
jacobian = torch.func.jacrev(my_function)(x)

print(f"Input x: {x}")
print(f"Jacobian (3x2):\n{jacobian}")
