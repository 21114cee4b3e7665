"""The PyTorch peer of the main job (fashion-mnist.mjs runs it): the same LeNet-5 on Fashion-MNIST,
same split (the JSON file fashion-mnist.mjs writes with @convkit/data's stratifiedSplit), same
normalization, Adam lr 2e-3 with cosine annealing to 0 stepped after every batch, batch 64,
shuffled; validation (batch 500) after each epoch, timed apart from the training pass; then the
test set. Reads the IDX gz files itself, as the other two do. Prints one JSON line.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 \
      bench/fashion_mnist_pytorch.py <split.json> [epochs] [data dir]
Eager NCHW on the CPU, 2 threads (BENCH_THREADS).
"""
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_lenet5 import LeNet5

STARTED = time.perf_counter()
MEAN, STD = 0.286, 0.353
BATCH = 64
LR = 2e-3

def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{rank}I", data[4 : 4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(data_dir, prefix):
    images = read_idx_gz(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx_gz(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels


def tensors(images, labels, indices):
    x = (images[indices].astype(np.float64) / 255 - MEAN) / STD
    x = torch.from_numpy(x.astype(np.float32)).unsqueeze(1)  # [N, 1, 28, 28]
    return x, torch.from_numpy(labels[indices].astype(np.int64))


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), 500):
        logits = model(x[i : i + 500])
        loss_sum += F.cross_entropy(logits, y[i : i + 500], reduction="sum").item()
        correct += (logits.argmax(1) == y[i : i + 500]).sum().item()
    model.train()
    return loss_sum / len(x), correct / len(x)


def main():
    split_path = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    data_dir = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)

    with open(split_path) as f:
        split = json.load(f)
    train_images, train_labels = load(data_dir, "train")
    test_images, test_labels = load(data_dir, "t10k")
    x_train, y_train = tensors(train_images, train_labels, np.array(split["train"]))
    x_val, y_val = tensors(train_images, train_labels, np.array(split["validation"]))
    x_test, y_test = tensors(test_images, test_labels, np.arange(len(test_labels)))

    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    batches = (len(x_train) + BATCH - 1) // BATCH
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * batches)

    history = []
    fit_start = time.perf_counter()
    for epoch in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x_train), generator=generator)
        loss_sum, correct = 0.0, 0
        for b in range(batches):
            idx = order[b * BATCH : (b + 1) * BATCH]
            x, y = x_train[idx], y_train[idx]
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
        seconds = time.perf_counter() - start
        val_loss, val_accuracy = evaluate(model, x_val, y_val)
        history.append(
            {
                "epoch": epoch,
                "loss": loss_sum / len(x_train),
                "accuracy": correct / len(x_train),
                "valLoss": val_loss,
                "valAccuracy": val_accuracy,
                "seconds": seconds,
                "load": os.getloadavg()[0],
            }
        )
        print(
            f"pytorch epoch {epoch + 1}/{epochs}  {seconds:.1f} s  loss {loss_sum / len(x_train):.4f}"
            f"  val_accuracy {val_accuracy:.4f}",
            file=sys.stderr,
        )
    training = time.perf_counter() - fit_start
    test_loss, test_accuracy = evaluate(model, x_test, y_test)
    print(
        json.dumps(
            {
                "framework": "pytorch",
                "backend": f"PyTorch {torch.__version__} CPU, eager NCHW,"
                f" {torch.get_num_threads()} threads",
                "epochs": epochs,
                "steps": epochs * batches,
                "history": history,
                "seconds": {"training": training, "process": time.perf_counter() - STARTED},
                "test": {"loss": test_loss, "accuracy": test_accuracy, "samples": len(x_test)},
            }
        )
    )


if __name__ == "__main__":
    main()
