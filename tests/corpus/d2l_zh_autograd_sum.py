# source: https://github.com/FriderickYu/Computer_Science_Knowledge (d2l-zh 自动微分 notebook)
# kind: arange, requires_grad_(), dot, backward, zero_(), x.sum() backward, y.sum().backward() for non-scalar y
import torch
x = torch.arange(4.0)
x
x.requires_grad_(True)
x.grad
y = 2 * torch.dot(x, x)
y
y.backward()
x.grad
# 正常情况加会积累梯度，需要清空
x.grad.zero_()
y = x.sum()
y.backward()
x.grad
# 如果y不是标量时，向量y关于向量x的导数是一个矩阵。对于高阶和高维的y和x，求导的结果可以是一个高阶张量
# 对非标量调用backward需要传入一个gradient参数，该参数指定微分函数关于self的梯度。
# 本例只想求偏导数的和，所以传递一个1的梯度是合适的
x.grad.zero_()
y = x * x
# 等价于y.backward(torch.ones(len(x)))
y.sum().backward()
x.grad
