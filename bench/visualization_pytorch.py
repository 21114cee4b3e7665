"""The PyTorch peer of visualization.mjs: Grad-CAM, integrated gradients and feature-inversion
reconstruction by the formulas @convkit/visualization implements, on CIFAR ResNet-20 (the zoo's
fixture definition, option A shortcuts) and torchvision's ResNet-18, random weights, eval mode,
batch 1, on BENCH_THREADS threads (default 1), best of NCHW and channels_last per task. The
workloads (layers, step counts, repeats) come from VIS_CONFIG, written by visualization.mjs.
Prints one JSON line. Run with OpenBLAS (openmp) as visualization.mjs does:
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 bench/visualization_pytorch.py
"""
import json
import os
import random
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "packages", "zoo", "fixtures"))
from generate import CifarResNet  # noqa: E402  (the zoo's PyTorch definition of ResNet-20)

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
torch.manual_seed(0)
WORKLOADS = json.loads(os.environ["VIS_CONFIG"])


def hooked(model, layer, x):
    """Logits and the output of `layer` (a forward hook), in one forward pass."""
    store = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(
        lambda _m, _i, out: store.__setitem__("a", out)
    )
    try:
        out = model(x)
    finally:
        handle.remove()
    return out, store["a"]


def grad_cam(model, layer, x, target):
    # The layer's output replaced by a leaf that requires grad: one forward, and the backward
    # pass stops at the layer (the parameters do not require grad).
    store = {}

    def hook(_m, _i, out):
        store["a"] = out.detach().requires_grad_(True)
        return store["a"]

    handle = dict(model.named_modules())[layer].register_forward_hook(hook)
    try:
        out = model(x)
    finally:
        handle.remove()
    a = store["a"]
    (g,) = torch.autograd.grad(out[:, target].sum(), a)
    weights = g.mean(dim=(2, 3))
    cam = F.relu((weights[:, :, None, None] * a).sum(1))
    heat = F.interpolate(cam[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)
    return weights.detach(), cam.detach(), heat.detach()


def integrated_gradients(model, x, target, steps, per_batch=8):
    baseline = torch.zeros_like(x)
    with torch.no_grad():
        fx = model(x)[:, target]
    delta = x - baseline
    total = torch.zeros_like(x)
    for start in range(0, steps, per_batch):
        count = min(per_batch, steps - start)
        alphas = (torch.arange(start, start + count, dtype=x.dtype) + 0.5) / steps
        path = (baseline + alphas[:, None, None, None] * delta).requires_grad_(True)
        (g,) = torch.autograd.grad(model(path)[:, target].sum(), path)
        total += g.sum(0, keepdim=True)
    attribution = delta * total / steps
    with torch.no_grad():
        fb = model(baseline)[:, target]
    error = attribution.sum(dim=(1, 2, 3)) - (fx - fb)
    return attribution, attribution.abs().amax(1), error


def total_variation(x):
    dy = x[:, :, 1:, :] - x[:, :, :-1, :]
    dx = x[:, :, :, 1:] - x[:, :, :, :-1]
    return (dy ** 2).mean() + (dx ** 2).mean()


def reconstruct(model, layer, target, steps, lr=0.05, tv_weight=0.05, lo=0.0, hi=1.0, jitter=1):
    rng = random.Random(0)
    goals = {}

    def goal_for(dy, dx):
        if (dy, dx) not in goals:
            with torch.no_grad():
                _, f = hooked(model, layer, torch.roll(target, (dy, dx), (2, 3)))
                goals[(dy, dx)] = (f, (f ** 2).sum())
        return goals[(dy, dx)]

    x = ((lo + hi) / 2 + 0.1 * (hi - lo) * torch.randn_like(target)).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    losses, feature_losses = [], []
    for _ in range(steps):
        dy, dx = rng.randint(-jitter, jitter), rng.randint(-jitter, jitter)
        features, norm = goal_for(dy, dx)
        _, f = hooked(model, layer, torch.roll(x, (dy, dx), (2, 3)))
        feature_loss = ((f - features) ** 2).sum() / norm
        penalty = (F.relu(x - hi) ** 2 + F.relu(lo - x) ** 2).mean()
        loss = feature_loss + tv_weight * total_variation(x) + penalty
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        feature_losses.append(feature_loss.item())
    return x.detach(), losses


def best_ms(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def best_layout(model, x, fn, repeats, warm_up=False):
    best = None
    for layout in (torch.contiguous_format, torch.channels_last):
        m = model.to(memory_format=layout)
        xl = x.contiguous(memory_format=layout)
        if warm_up:
            fn(m, xl)
        ms = best_ms(lambda: fn(m, xl), repeats)
        if best is None or ms < best["ms"]:
            best = {"ms": ms, "layout": "channels_last" if layout is torch.channels_last else "NCHW"}
    return best


result = {
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "blas": "OpenBLAS (openmp)" if "openblas" in os.environ.get("LD_LIBRARY_PATH", "") else "system BLAS",
    "models": {},
}
for w in WORKLOADS:
    model = (CifarResNet(3) if w["model"] == "resnet20" else torchvision.models.resnet18()).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, w["size"], w["size"])
    result["models"][w["model"]] = {
        "gradCam": best_layout(model, x, lambda m, xl: grad_cam(m, w["camLayer"], xl, 0), w["camRepeats"], True),
        "ig": best_layout(model, x, lambda m, xl: integrated_gradients(m, xl, 0, w["igSteps"]), 1),
        "rec": best_layout(model, x, lambda m, xl: reconstruct(m, w["recLayer"], xl, w["recSteps"]), 1),
    }
    print(w["model"], result["models"][w["model"]], file=sys.stderr)
print(json.dumps(result))
