# source: https://github.com/arampatzis-teaching/damsl-281-2025 ("The torch.func module" notebook, scalar function example)
# kind: set_default_dtype(float64), def with type hints, torch.func.vmap(torch.func.grad(f)), linspace(requires_grad=True), allclose
import torch

torch.set_default_dtype(torch.float64)
def f(x: torch.Tensor) -> torch.Tensor:
    return x**2 + torch.sin(x**2)

def df_dx(x: torch.Tensor) -> torch.Tensor:
    return 2*x + 2*x*torch.cos(x**2)

N = 1000
x = torch.linspace(0, 5, N, requires_grad=True)

# y.backward(gradient=torch.ones_like(y))
dy_dx = torch.func.vmap(torch.func.grad(f))(x)

print("Are derivatives correct?", torch.allclose(df_dx(x), dy_dx))
