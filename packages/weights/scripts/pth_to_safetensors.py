#!/usr/bin/python3
"""Convert a PyTorch .pth / .pt state dict to a .safetensors file, keeping PyTorch layouts.

The layout conversion to convkit (OIHW -> HWIO, ...) happens in JavaScript
(`convertStateDict` in @convkit/weights), so the file written here is also a plain
PyTorch safetensors file. Needs only torch (Debian python3-torch); the safetensors
format is written here directly (no `safetensors` package).

Usage:
  /usr/bin/python3 pth_to_safetensors.py resnet18-f37072fd.pth resnet18.safetensors
  /usr/bin/python3 pth_to_safetensors.py checkpoint.pt out.safetensors --key model --strip-prefix module.
"""

import argparse
import json
import struct
import sys

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
SIZES = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def tensor_bytes(tensor):
    """The little-endian bytes of a tensor, C order."""
    tensor = tensor.detach().cpu().contiguous()
    if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        tensor = tensor.view(torch.int16)
    array = tensor.numpy()
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and sys.byteorder == "big"):
        array = array.byteswap()
    return array.tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} as safetensors: u64 LE header length, JSON header padded with
    spaces to a multiple of 8, then the data ordered by element size (descending) then name,
    so every tensor is aligned; the tensors cover the buffer contiguously."""
    names = sorted(tensors, key=lambda n: (-SIZES[DTYPES[tensors[n].dtype]], n))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name in names:
        tensor = tensors[name]
        if tensor.dtype not in DTYPES:
            raise SystemExit(f"{name}: dtype {tensor.dtype} has no safetensors equivalent")
        data = tensor_bytes(tensor)
        header[name] = {
            "dtype": DTYPES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for data in chunks:
            out.write(data)


def load_state_dict(path, key=None, allow_pickle=False):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except TypeError:  # torch < 1.13: no weights_only
        if not allow_pickle:
            raise SystemExit("this torch has no safe loader (weights_only); pass --allow-pickle if you trust the file")
        obj = torch.load(path, map_location="cpu")
    except Exception as error:
        if allow_pickle:
            raise
        raise SystemExit(
            f"{path}: the safe loader (weights_only=True) refused it ({error}); if the file holds a "
            "whole pickled model and you trust it, pass --allow-pickle (unpickling runs code)"
        )
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise SystemExit(f"{path}: expected a state dict or checkpoint dict, found {type(obj).__name__}")
    if key is not None:
        if key not in obj:
            raise SystemExit(f"{path}: no key {key!r} (keys: {', '.join(map(str, obj))})")
        obj = obj[key]
    else:
        for candidate in ("state_dict", "model_state_dict", "model"):
            if candidate in obj and isinstance(obj[candidate], (dict, torch.nn.Module)):
                obj = obj[candidate]
                break
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    skipped = [k for k in obj if k not in tensors]
    if skipped:
        print(f"skipping non-tensor entries: {', '.join(map(str, skipped))}", file=sys.stderr)
    if not tensors:
        raise SystemExit(f"{path}: no tensors found")
    return tensors


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert a PyTorch state dict (.pth/.pt, or a checkpoint with a "
        "'state_dict' / 'model' key) to .safetensors in PyTorch layout, for @convkit/weights."
    )
    parser.add_argument("input", help="the .pth / .pt file")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--key", help="checkpoint key holding the state dict (default: state_dict, model_state_dict or model when present)")
    parser.add_argument("--strip-prefix", default=None, help="remove this prefix from every key (e.g. 'module.' from DataParallel)")
    parser.add_argument("--allow-pickle", action="store_true", help="allow full unpickling (runs code from the file: only for files you trust)")
    parser.add_argument("--float32", action="store_true", help="cast floating tensors (F16/BF16/F64) to float32")
    parser.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE", help="add a __metadata__ entry (repeatable)")
    args = parser.parse_args(argv)

    tensors = load_state_dict(args.input, args.key, args.allow_pickle)
    if args.strip_prefix:
        tensors = {(k[len(args.strip_prefix):] if k.startswith(args.strip_prefix) else k): v for k, v in tensors.items()}
    out = {}
    for name, tensor in tensors.items():
        if args.float32 and tensor.is_floating_point():
            tensor = tensor.float()
        # int64 buffers (num_batches_tracked) stay I64, as PyTorch stores them; the JS reader
        # converts them to int32 with a range check.
        out[name] = tensor
    metadata = {"format": "pt"}
    for item in args.metadata:
        key, _, value = item.partition("=")
        metadata[key] = value
    write_safetensors(args.output, out, metadata)
    print(f"wrote {len(out)} tensors to {args.output}")


if __name__ == "__main__":
    main()
