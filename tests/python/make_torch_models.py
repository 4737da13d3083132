#!/usr/bin/python3
"""Generates the TorchScript CNN and its expected outputs used by
test_smartredis_torch.py and ../torch_test.go. The outputs are committed beside
this script under models/, so running the tests needs neither torch nor this
script; rerun it only to regenerate them. cnn* were made with Debian's
python3-torch 1.13 (which the TORCH shim linked then), cnn_torch2* with the
torch wheel that build/fetch-torch.sh pins (2.15.0), in a virtual environment
of its own, naming the files:

    /usr/bin/python3 tests/python/make_torch_models.py
    python3 tests/python/make_torch_models.py cnn_torch2

The model is the CNN of SmartSim's tests/backends/run_torch.py (the MNIST
example network), stored there with set_model(..., "TORCH", device):

    Conv2d(1, 32, 3) -> relu -> Conv2d(32, 64, 3) -> relu -> max_pool2d(2)
    -> dropout(0.25) -> flatten -> Linear(9216, 128) -> relu -> dropout(0.5)
    -> Linear(128, 10) -> log_softmax(dim=1)

built after torch.manual_seed(0), put in eval() mode (dropout is then the
identity) and traced with torch.jit.trace on a [1, 1, 28, 28] input.

Files:
* cnn.pt: the traced module (torch.jit.save).
* cnn_input.npy: torch.rand(20, 1, 28, 28) (float32, drawn after the model's
  weights from the same seeded generator); cnn_output.npy: the traced
  module's output for it, float32 [20, 10].
* cnn_input_1.npy / cnn_output_1.npy: the first row alone, a batch of 1
  ([1, 1, 28, 28] -> [1, 10]), run through the module by itself.
* manifest.txt: this script replaces its own lines there (a "torch" line with
  the versions, and the sha256 of each file above) and keeps the others.
A name given as the argument replaces "cnn" in the file names.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUT = Path(__file__).resolve().parent / "models"
NAME = sys.argv[1] if len(sys.argv) > 1 else "cnn"
FILES = [f"{NAME}{suffix}" for suffix in (".pt", "_input.npy", "_output.npy", "_input_1.npy", "_output_1.npy")]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def update_manifest():
    path = OUT / "manifest.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    mine = f"make_torch_models.py {NAME})"
    keep = [l for l in lines if not (l.startswith("torch ") and l.endswith(mine)) and l.split("  ")[-1] not in FILES]
    keep.append(f"torch {torch.__version__} (numpy {np.__version__}, python {sys.version.split()[0]}: {mine}")
    for name in FILES:
        keep.append(f"{hashlib.sha256((OUT / name).read_bytes()).hexdigest()}  {name}")
    path.write_text("\n".join(keep) + "\n")


def main():
    OUT.mkdir(exist_ok=True)
    torch.manual_seed(0)
    net = Net().eval()
    traced = torch.jit.trace(net, torch.rand(1, 1, 28, 28))
    torch.jit.save(traced, str(OUT / FILES[0]))
    names = [a.name for a in traced.forward.schema.arguments[1:]]
    assert names == ["x"], names

    X = torch.rand(20, 1, 28, 28)
    X1 = X[:1].clone()
    # Outputs of the module as saved and loaded again, as the server will run it.
    loaded = torch.jit.load(str(OUT / FILES[0]))
    with torch.no_grad():
        out = loaded(X)
        out1 = loaded(X1)
    assert out.shape == (20, 10) and out.dtype == torch.float32
    assert out1.shape == (1, 10)
    for name, t in zip(FILES[1:], (X, out, X1, out1)):
        np.save(OUT / name, t.numpy())
    update_manifest()


if __name__ == "__main__":
    main()
