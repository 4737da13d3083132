#!/usr/bin/python3
"""Makes the TorchScript models the torch backend tests load, and expected.json with their inputs
and outputs as PyTorch computes them.

The files it makes are committed, so the tests need no Python. Those next to this script were made
with Debian's python3-torch 1.13 (the shim linked libtorch 1.13 then; libtorch 2.x must still load them):
    /usr/bin/python3 backends/torch/testdata/make_models.py
Those in torch2/ with the torch wheel that build/fetch-torch.sh pins (2.15.0, which also makes models
with operators that libtorch 1.13 lacks), in a virtual environment of its own:
    python3 backends/torch/testdata/make_models.py torch2
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from typing import List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, sys.argv[1]) if len(sys.argv) > 1 else HERE

DTYPES = {
    torch.float32: "FLOAT",
    torch.float64: "DOUBLE",
    torch.int8: "INT8",
    torch.int16: "INT16",
    torch.int32: "INT32",
    torch.int64: "INT64",
    torch.uint8: "UINT8",
    torch.bool: "BOOL",
}


def describe(t):
    t = t.contiguous()
    if t.dtype == torch.bool:
        data = [int(v) for v in t.flatten().tolist()]
    else:
        data = t.flatten().tolist()
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data": data}


class Linear(torch.nn.Module):
    """A linear layer 3 -> 2 with fixed weights."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]))
            self.fc.bias.copy_(torch.tensor([0.1, -0.2]))

    def forward(self, x):
        return self.fc(x)


class Pair(torch.nn.Module):
    """Two outputs of different shapes: a Tuple[Tensor, Tensor]."""

    def forward(self, x):
        return x * 2.0, x.sum(dim=1)


class TwoInputs(torch.nn.Module):
    """Two named inputs."""

    def forward(self, a, b):
        return a + b * 2.0


class Types(torch.nn.Module):
    """Integer, double and boolean tensors in and out."""

    def forward(self, counts, weights):
        return counts * 3 + 1, weights * 0.5, counts > 2


class Scalar(torch.nn.Module):
    """A 0-dim output (scalar) from a 2-d input."""

    def forward(self, x):
        return x.sum()


class ListOut(torch.nn.Module):
    """Returns List[Tensor]: TorchScript does not say how long, so the backend refuses it."""

    def forward(self, x) -> List[torch.Tensor]:
        return [x, x + 1.0]


class Attention(torch.nn.Module):
    """Causal self-attention through F.scaled_dot_product_attention, which libtorch 1.13 does not have."""

    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(4, 12)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class AttentionBranch(torch.nn.Module):
    """Attention behind a branch on the input, which only scripting keeps (tracing records one path)."""

    def forward(self, q, k, v):
        if q.size(-2) > 1:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return v


class RecurrentCells(torch.nn.Module):
    """An LSTM and a GRU cell, which tracing records with torch.unsafe_chunk (a chunk without view
    tracking: no memory outside its tensors)."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTMCell(3, 4)
        self.gru = torch.nn.GRUCell(3, 4)

    def forward(self, x):
        h, c = self.lstm(x)
        return h, c, self.gru(x)


class AddInPlace(torch.nn.Module):
    """Writes into its input: a run must not change the tensor it is given."""

    def forward(self, x):
        x.add_(1.0)
        return x * 2.0


# A training script kept beside a model (torch.jit.save's _extra_files), under a folder named like the
# archive's code/: libtorch never compiles it, though it calls torch.save.
TRAINING_SCRIPT = {"source_code/train.py": "torch.save(model, 'model.pt')\n"}


def save(name, module, inputs, trace=True, extra_files=None):
    m = torch.jit.trace(module, inputs) if trace else torch.jit.script(module)
    path = os.path.join(OUT, name + ".pt")
    torch.jit.save(m, path, _extra_files=extra_files or {})
    with torch.no_grad():
        out = m(*[t.clone() for t in inputs])
    if isinstance(out, torch.Tensor):
        out = (out,)
    schema = m.forward.schema
    return {
        "file": name + ".pt",
        "input_names": [a.name for a in schema.arguments[1:]],
        "inputs": [describe(t) for t in inputs],
        "outputs": [describe(t) for t in out],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    models = {
        "linear": save("linear", Linear().eval(), (torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]),)),
        "pair": save("pair", Pair(), (torch.arange(6, dtype=torch.float32).reshape(2, 3),)),
        "two_inputs": save("two_inputs", TwoInputs(), (
            torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.5, -0.5], [10.0, 0.0]]))),
        "types": save("types", Types(), (
            torch.tensor([1, 2, 3, 4], dtype=torch.int64),
            torch.tensor([[1.0, -2.0], [3.5, 1e10]], dtype=torch.float64))),
        "scalar": save("scalar", Scalar(), (torch.ones(2, 2),)),
    }
    # Scripted, not traced: a traced list output would be flattened into a tuple.
    lst = save("list_out", ListOut(), (torch.ones(2),), trace=False)
    lst["outputs"] = []
    models["list_out"] = lst
    if hasattr(F, "scaled_dot_product_attention"):  # torch 2.0 on
        models["attention"] = save("attention", Attention().eval(), (torch.randn(2, 5, 4),))
        models["attention_branch"] = save("attention_branch", AttentionBranch(), (
            torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4), torch.randn(1, 2, 3, 4)), trace=False)
        models["recurrent_cells"] = save("recurrent_cells", RecurrentCells().eval(), (torch.randn(2, 3),),
                                         extra_files=TRAINING_SCRIPT)
        models["add_in_place"] = save("add_in_place", AddInPlace(), (torch.tensor([1.0, 2.0]),), trace=False)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "models": models}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
