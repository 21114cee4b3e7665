"""The PyTorch peer of conv-blocks.bench.mjs: the same two blocks, forward and forward + backward
in train mode, on the CPU with 2 threads; the better of NCHW and channels_last per row.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 \
    packages/layers/bench/conv_blocks_torch.py [seconds per row]
"""
import statistics
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(int(__import__("os").environ.get("BENCH_THREADS", "2")))
torch.manual_seed(0)
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + x)


BLOCKS = [
    ("conv-BN-ReLU-maxpool", (16, 32, 32, 32),
     lambda: nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                           nn.MaxPool2d(2))),
    ("ResNet basic block", (8, 64, 28, 28), lambda: BasicBlock(64)),
]


def median_ms(fn):
    for _ in range(2):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < SECONDS and len(times) < 50):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


print("| block | input (NCHW) | pass | PyTorch ms | layout |")
print("| --- | --- | --- | ---: | --- |")
for name, shape, make in BLOCKS:
    for pass_name in ("forward", "forward + backward"):
        best = None
        for fmt in (torch.contiguous_format, torch.channels_last):
            model = make().train().to(memory_format=fmt)
            x = torch.randn(*shape).to(memory_format=fmt)

            def forward():
                with torch.no_grad():
                    model(x)

            def backward():
                model.zero_grad(set_to_none=True)
                model(x).sum().backward()

            ms = median_ms(forward if pass_name == "forward" else backward)
            label = "NCHW" if fmt == torch.contiguous_format else "channels_last"
            if best is None or ms < best[0]:
                best = (ms, label)
        print(f"| {name} | {list(shape)} | {pass_name} | {best[0]:.1f} | {best[1]} |")
