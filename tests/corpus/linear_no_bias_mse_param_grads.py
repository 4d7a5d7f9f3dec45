# source: public code search (a script checking nn.Linear + MSELoss gradients; repository not named by the index)
# kind: nn.Linear(1,1,bias=False), nn.init.constant_ over model.parameters(), MSELoss(reduction='mean'), loss.backward(), param.grad loop
import torch
x = torch.tensor([[1.],[2.]],requires_grad=True)
y = torch.tensor([[0.],[0.]])
model = torch.nn.Linear(1,1,bias=False)
for param in model.parameters():
    torch.nn.init.constant_(param,1)
criterion = torch.nn.MSELoss(reduction='mean')
y_p = model(x)
loss = criterion(y_p, y)
print(loss)
loss.backward()
for param in model.parameters():
    print(param.grad)
