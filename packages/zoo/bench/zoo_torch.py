"""PyTorch peer of zoo.bench.mjs: ResNet-18 and MobileNetV2 inference (224x224, batch 1 and 8)
and CIFAR ResNet-20 training steps (batch 128, option A and B shortcuts), best of NCHW and
channels_last. Not part of the tests. Run from the repository root:

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
    /usr/bin/python3 packages/zoo/bench/zoo_torch.py [threads] [timed runs]

BENCH_DEVICE=cuda runs the same rows on the GPU (bench/threads.mjs does so where torch sees one).
"""
import os
import statistics
import sys
import time

import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from generate import CifarResNet  # noqa: E402  (the fixture's reference model)

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(THREADS)
DEVICE = torch.device(os.environ.get("BENCH_DEVICE", "cpu"))


def synchronize():
    # CUDA runs asynchronously: a call's time is only known once the device has finished it.
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn):
    # Warm-up: at least 2 calls and 1 s, as zoo.bench.mjs.
    warm_until = time.perf_counter() + 1.0
    calls = 0
    while calls < 2 or time.perf_counter() < warm_until:
        fn()
        synchronize()
        calls += 1
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


rows = []
for name, build in [("ResNet-18", tvm.resnet18), ("MobileNetV2", tvm.mobilenet_v2)]:
    for batch in [1, 8]:
        best = None
        for layout in ["nchw", "channels_last"]:
            model = build().eval().to(DEVICE)
            x = torch.randn(batch, 3, 224, 224, device=DEVICE)
            if layout == "channels_last":
                model = model.to(memory_format=torch.channels_last)
                x = x.to(memory_format=torch.channels_last)
            with torch.no_grad():
                ms = median_ms(lambda: model(x))
            if best is None or ms < best[0]:
                best = (ms, layout)
        rows.append((name, "inference", batch, *best))
        print(rows[-1], file=sys.stderr, flush=True)

for shortcut in ["A", "B"]:
    best = None
    for layout in ["nchw", "channels_last"]:
        model = CifarResNet(3, shortcut=shortcut).train().to(DEVICE)
        x = torch.randn(128, 3, 32, 32, device=DEVICE)
        y = torch.randint(0, 10, (128,), device=DEVICE)
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            x = x.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

        ms = median_ms(step)
        if best is None or ms < best[0]:
            best = (ms, layout)
    rows.append((f"CIFAR ResNet-20 ({shortcut})", "train step", 128, *best))
    print(rows[-1], file=sys.stderr, flush=True)

where = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else f"{THREADS} thread(s)"
print(f"| model | task | batch | PyTorch {where} ms | layout |")
print("| --- | --- | ---: | ---: | --- |")
for name, task, batch, ms, layout in rows:
    print(f"| {name} | {task} | {batch} | {ms:.0f} | {layout} |")
