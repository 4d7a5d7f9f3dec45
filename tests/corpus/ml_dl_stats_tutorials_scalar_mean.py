# source: https://github.com/gongchang/ML_DL_Stats_Tutorials (autograd notebook, scalar output with default gradient)
# kind: ones(2,2, requires_grad=True), add, mul, mean, backward(), print grad_fn
import torch
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()

print(z, out)
print(out)
out.backward() # # this is the same as out.backward(tensor(1.))
#print gradients d(out)/dx = (1/4) * 3* (2 *x  + 4) = (1/4) * 3* (2 *1 + 4)  = 4.5
print(x.grad)
