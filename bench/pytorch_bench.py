"""The PyTorch peer of lenet-tfjs.mjs: the same LeNet-5 (training and inference at batch 64) and the
same 56x56x64 3x3 convolution, on the CPU with 2 threads (BENCH_THREADS), or on the GPU with
BENCH_DEVICE=cuda (threads.mjs does so where torch sees one). Prints one JSON line.

Run with Debian's python3-torch and OpenBLAS, as run.mjs does:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/pytorch_bench.py
Each workload reports the better of eager NCHW and channels_last, so the ratio does not flatter us.
"""
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

from torch_lenet5 import LeNet5

BUDGET = float(os.environ.get("BENCH_SECONDS", "4"))
torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
torch.manual_seed(0)
DEVICE = torch.device(os.environ.get("BENCH_DEVICE", "cpu"))


def synchronize():
    # CUDA runs asynchronously: a call's time is only known once the device has finished it.
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def median_seconds(fn, warmup=2, minimum=3):
    # Warm-up: at least `warmup` calls and 1 s, as lenet-tfjs.mjs.
    warm_until = time.perf_counter() + 1.0
    calls = 0
    while calls < warmup or time.perf_counter() < warm_until:
        fn()
        synchronize()
        calls += 1
    samples = []
    deadline = time.perf_counter() + BUDGET
    while len(samples) < minimum or (time.perf_counter() < deadline and len(samples) < 200):
        start = time.perf_counter()
        fn()
        synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def best_of_layouts(make_fn):
    best = None
    for layout in (torch.contiguous_format, torch.channels_last):
        seconds = median_seconds(make_fn(layout))
        if best is None or seconds < best[0]:
            best = (seconds, "channels_last" if layout is torch.channels_last else "NCHW")
    return best


def lenet_train(layout):
    model = LeNet5().to(DEVICE, memory_format=layout)
    x = torch.randn(64, 1, 28, 28).to(DEVICE, memory_format=layout)
    y = (torch.arange(64) % 10).to(DEVICE)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()

    return step


def lenet_infer(layout):
    model = LeNet5().to(DEVICE, memory_format=layout).eval()
    x = torch.randn(64, 1, 28, 28).to(DEVICE, memory_format=layout)

    def run():
        with torch.no_grad():
            torch.softmax(model(x), 1).sum().item()

    return run


conv_flops = 2 * 8 * 56 * 56 * 64 * 64 * 9


def conv_case(kind):
    def make(layout):
        x = torch.randn(8, 64, 56, 56).to(DEVICE, memory_format=layout)
        w = torch.randn(64, 64, 3, 3).to(DEVICE, memory_format=layout)
        dy = torch.randn(8, 64, 56, 56).to(DEVICE, memory_format=layout)

        def run():
            with torch.no_grad():
                if kind == "forward":
                    F.conv2d(x, w, padding=1)
                elif kind == "input":
                    torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1)
                else:
                    torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)

        return run

    return make


if DEVICE.type == "cuda":
    device = f"torch {torch.__version__}, {torch.cuda.get_device_name(DEVICE)}"
else:
    device = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
result = {"backend": f"pytorch {DEVICE.type}", "device": device}
seconds, layout = best_of_layouts(lenet_train)
result["lenetTrain"] = {"stepsPerSecond": 1 / seconds, "layout": layout}
seconds, layout = best_of_layouts(lenet_infer)
result["lenetInfer"] = {"imagesPerSecond": 64 / seconds, "layout": layout}
for key, kind in (("convForward", "forward"), ("convBackwardInput", "input"), ("convBackwardFilter", "filter")):
    seconds, layout = best_of_layouts(conv_case(kind))
    result[key] = {"gflops": conv_flops / seconds / 1e9, "layout": layout}
print(json.dumps(result))
