"""Online inference with a PyTorch CNN (the chapter's first example).

A small MNIST-shaped convolutional network is traced with torch.jit.trace,
stored in the Orchestrator with set_model(..., "TORCH"), run there on a batch
of 20 random images, and its output compared with the same traced model run
in this process. Launched by run_all.py as a SmartSim Model, so SSDB points
at the database.
"""

import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from smartredis import Client


class MnistCNN(nn.Module):
    """Two convolutions, a max-pool, two linear layers, log-softmax over 10 classes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


def traced_bytes(module, example):
    """The TorchScript archive of module traced on example, as set_model takes it."""
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.trace(module, example), buffer)
    return buffer.getvalue()


def main():
    torch.manual_seed(0)
    model = MnistCNN().eval()
    images = torch.rand(20, 1, 28, 28)
    blob = traced_bytes(model, images)

    client = Client(cluster=False)
    client.set_model("cnn", blob, "TORCH", device="CPU")
    client.put_tensor("images", images.numpy())
    client.run_model("cnn", inputs=["images"], outputs=["log_probs"])
    got = client.get_tensor("log_probs")

    # The reference: the same archive, loaded and run here.
    with torch.no_grad():
        want = torch.jit.load(io.BytesIO(blob))(images).numpy()
    assert got.shape == (20, 10), got.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    print(f"torch_cnn: 20 x 10 log-probabilities match in-process torch (max diff {np.abs(got - want).max():.2e})")


if __name__ == "__main__":
    main()
