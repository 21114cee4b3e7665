"""The PyTorch peer of resnet18-inference.mjs: torchvision's resnet18 (random weights, eval,
inference mode) at batch 1 and 8, 224x224, on BENCH_THREADS threads (default 2), the best of
repeated calls within BENCH_SECONDS per batch, best of NCHW and channels_last. Prints one JSON
line. Run with OpenBLAS (openmp) as resnet18-inference.mjs does:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/resnet18_pytorch.py
"""
import json
import os
import time

import torch
import torchvision

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
torch.manual_seed(0)


def best_ms(fn):
    fn()
    best = float("inf")
    end = time.perf_counter() + SECONDS
    n = 0
    while n < 3 or time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        n += 1
    return best * 1000


model = torchvision.models.resnet18().eval()
result = {
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "blas": "OpenBLAS (openmp)" if "openblas" in os.environ.get("LD_LIBRARY_PATH", "") else "system BLAS",
}
with torch.inference_mode():
    for batch in (1, 8):
        x = torch.randn(batch, 3, 224, 224)
        best = None
        for layout in (torch.contiguous_format, torch.channels_last):
            m = model.to(memory_format=layout)
            xl = x.to(memory_format=layout)
            ms = best_ms(lambda: m(xl))
            if best is None or ms < best[0]:
                best = (ms, "channels_last" if layout is torch.channels_last else "NCHW")
        result[str(batch)] = {"ms": best[0], "layout": best[1]}
print(json.dumps(result))
