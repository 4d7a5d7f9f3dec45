# source: https://pytorch.org/tutorials/beginner/basics/autogradqs_tutorial.html ("Optional Reading: Tensor Gradients and Jacobian Products"; as copied in github.com/hm-kim/practice PytorchTutorial/practice6.py)
# kind: eye(4,5, requires_grad=True), pow, .t(), backward(ones_like, retain_graph=True) twice (accumulation), inp.grad.zero_(), third backward
import torch 

inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
print(f"Out tensor\n{out}\n")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
