"""Writes transforms.json: torch / torchvision 0.14 outputs that transforms.test.ts compares
against (bilinear resize and rotation). Run with Debian's python3:
/usr/bin/python3 packages/data/src/__fixtures__/generate_transforms.py"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

torch.manual_seed(0)
img = torch.rand(3, 5, 7)  # CHW
out = {"image": {"shape": [5, 7, 3], "data": img.permute(1, 2, 0).reshape(-1).tolist()}}
out["resize"] = []
for size in [(9, 4), (3, 5), (10, 14)]:
    r = F.interpolate(img[None], size=size, mode="bilinear", align_corners=False)[0]
    out["resize"].append({"size": list(size), "data": r.permute(1, 2, 0).reshape(-1).tolist()})
out["rotate"] = []
for angle in [30.0, -75.0, 90.0, 12.5]:
    r = TF.rotate(img, angle, interpolation=InterpolationMode.BILINEAR)
    out["rotate"].append({"angle": angle, "data": r.permute(1, 2, 0).reshape(-1).tolist()})
out["jitter"] = []
for name, fn, factor in [
    ("brightness", TF.adjust_brightness, 1.3),
    ("contrast", TF.adjust_contrast, 0.6),
    ("contrast", TF.adjust_contrast, 1.8),
    ("saturation", TF.adjust_saturation, 1.7),
    ("saturation", TF.adjust_saturation, 0.3),
]:
    r = fn(img, factor)
    out["jitter"].append({"op": name, "factor": factor, "data": r.permute(1, 2, 0).reshape(-1).tolist()})
with open(os.path.join(os.path.dirname(__file__), "transforms.json"), "w") as f:
    json.dump(out, f)
