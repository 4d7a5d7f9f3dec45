# source: wikidocs "PyTorch로 시작하는 딥 러닝 입문", linear regression (https://wikidocs.net/53560); a study copy found by public code search
# kind: manual_seed, FloatTensor data, zeros(1, requires_grad=True), optim.SGD([W,b]) one step, then two backward() calls accumulating (W*3, W*5)
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)        # 난수 생성기의 시드

x_train = torch.FloatTensor([[1], [2], [3]])
y_train = torch.FloatTensor([[2], [4], [6]])

W = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)

hypothesis = x_train * W + b

cost = torch.mean((hypothesis - y_train) ** 2)

print(f"W : {W}, b : {b}")
print(f"Cost : {cost}")

optimizer = optim.SGD([W,b], lr=0.01)

optimizer.zero_grad()

cost.backward()

optimizer.step()

cost = torch.mean((hypothesis - y_train) ** 2)
print(f"W : {W}, b : {b}")
print(f"Cost : {cost}")


# requires_grad=True인 텐서
W = torch.tensor([2.0], requires_grad=True)

# 첫 번째 연산과 backward
loss1 = W * 3  # 연산 1
loss1.backward()  # Gradient 계산
print("W.grad after first backward:", W.grad)  # 첫 번째 backward의 gradient

# 두 번째 연산과 backward
loss2 = W * 5  # 연산 2
loss2.backward()  # Gradient 계산 (누적됨)
print("W.grad after second backward:", W.grad)  # 누적된 gradient
