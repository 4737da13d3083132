"""Makes from_file.pt: a TorchScript model whose forward returns torch.from_file(path) for a path it is not
given, which maps a file of the server into a tensor (the TORCH backend refuses it).

  build/venv-examples/bin/python backends/torch/testdata/make_from_file.py   (any torch 2.x)
"""
import os

import torch


class FromFile(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return torch.from_file("/etc/hostname", False, 1)
        return x


here = os.path.dirname(os.path.abspath(__file__))
torch.jit.script(FromFile()).save(os.path.join(here, "from_file.pt"))
