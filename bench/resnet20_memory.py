"""PyTorch peer of resnet20-memory.mjs: peak RSS (MB) of CIFAR ResNet-20 training (batch 128,
option-A shortcuts, SGD), after a few steps and before the model was built. One JSON line.
Threads from BENCH_THREADS (default 2); NCHW (the layout does not change the peak much)."""
import json
import os
import resource
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packages", "zoo", "fixtures"))
from generate import CifarResNet  # noqa: E402  (the zoo fixtures' reference model)

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


baseline = peak_mb()
model = CifarResNet(3, shortcut="A").train()
x = torch.randn(128, 3, 32, 32)
y = torch.randint(0, 10, (128,))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for _ in range(3):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
print(json.dumps({"device": f"torch {torch.__version__}, {torch.get_num_threads()} threads",
                  "baselineMB": baseline, "peakMB": peak_mb()}))
