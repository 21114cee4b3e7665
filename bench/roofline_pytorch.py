"""The native reference of roofline-kernels.mjs: the same convolution (forward, input and filter
gradients) and matrix product in PyTorch on ONE thread (OpenBLAS when run.mjs / roofline.mjs set
LD_LIBRARY_PATH), each the best of many short samples. Prints one JSON line."""
import json
import os
import time

import torch
import torch.nn.functional as F

SECONDS = float(os.environ.get("BENCH_SECONDS", "1"))
torch.set_num_threads(1)
torch.manual_seed(0)


def best_gflops(flops, fn):
    for _ in range(3):
        fn()
    fastest = float("inf")
    end = time.perf_counter() + SECONDS
    n = 0
    while n < 5 or time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - start)
        n += 1
    return flops / fastest / 1e9


conv_flops = 2 * 28 * 28 * 64 * 64 * 9
result = {"torch": torch.__version__, "blas": os.environ.get("LD_LIBRARY_PATH", "system")}
for layout in (torch.contiguous_format, torch.channels_last):
    x = torch.randn(1, 64, 28, 28).to(memory_format=layout)
    w = torch.randn(64, 64, 3, 3).to(memory_format=layout) * 0.05
    dy = torch.randn(1, 64, 28, 28).to(memory_format=layout)
    with torch.no_grad():
        forward = best_gflops(conv_flops, lambda: F.conv2d(x, w, padding=1))
        grad_input = best_gflops(
            conv_flops, lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1)
        )
        grad_filter = best_gflops(
            conv_flops, lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)
        )
    for key, value in (
        ("convForward", forward),
        ("convBackwardInput", grad_input),
        ("convBackwardFilter", grad_filter),
    ):
        result[key] = max(result.get(key, 0), value)
a = torch.randn(128, 576)
b = torch.randn(576, 128)
result["matMul"] = best_gflops(2 * 128 * 576 * 128, lambda: a @ b)
print(json.dumps(result))
