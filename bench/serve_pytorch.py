# PyTorch's raw inference throughput for the serving benchmark (bench/serve-load.mjs): the same
# architectures as the served checkpoints (LeNet-5 on 28x28x1, the CIFAR ResNet-20 with option-A
# shortcuts on 32x32x1, 6 classes), eval mode, forward + softmax under no_grad, batch 1 and 32,
# best of NCHW and channels_last. Weights are random: speed does not depend on them.
#   LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/serve_pytorch.py THREADS SECONDS
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
torch.set_num_threads(threads)
torch.manual_seed(0)


def lenet5(classes=6):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))


class Block(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - inplanes) // 2 if stride != 1 or inplanes != planes else None
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x
        if self.pad is not None:
            short = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class ResNet20(nn.Module):
    def __init__(self, in_channels=1, classes=6):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, inplanes = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(3):
                blocks.append(Block(inplanes, planes, stride if i == 0 else 1))
                inplanes = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def throughput(model, shape, batch, channels_last):
    model = model.eval()
    x = torch.randn(batch, *shape)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        for _ in range(3):
            F.softmax(model(x), 1)
        images, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            F.softmax(model(x), 1)
            images += batch
        return images / (time.perf_counter() - start)


result = {"threads": threads, "torch": torch.__version__}
for name, make, shape in [("lenet5", lenet5, (1, 28, 28)), ("cifarResnet20", ResNet20, (1, 32, 32))]:
    model = make()
    for batch in (1, 32):
        result[f"{name}.batch{batch}"] = max(throughput(model, shape, batch, cl) for cl in (False, True))
print(json.dumps(result))
