import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Linear(2, 1)
X = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
Y = torch.tensor([[1.0], [0.0]])
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(2):
    optimizer.zero_grad()
    loss = nn.MSELoss()(model(X), Y)
    loss.backward()
    optimizer.step()
