#!/usr/bin/env python3
"""Writes testdata/mnist_batch.onnx: testdata/redisai/mnist.onnx with a free batch dimension.

The original pins dim 0 of its input and output to 1, its flatten step reshapes to the
constant [1, 256], and its value_info annotates every intermediate tensor with dim 0 = 1, so it
cannot run more than one image at a time. Here dim 0 of Input3 and of Plus214_Output_0 becomes the
symbolic "batch", the reshape becomes [-1, 256], and the value_info annotations are dropped (they
are optional; ONNX Runtime infers the shapes, where the stale ones made it declare the fused output
as [1, 10]). Weights and every node are unchanged, so each row's scores equal the original
model's for that image.

Usage: python3 testdata/make_mnist_batch.py   (needs the `onnx` package: pip install onnx)
"""
import os

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "redisai", "mnist.onnx")
TARGET = os.path.join(HERE, "mnist_batch.onnx")
FLATTEN_SHAPE = "Pooling160_Output_0_reshape0_shape"


def free_batch_dim(value_info):
    dim = value_info.type.tensor_type.shape.dim[0]
    dim.ClearField("dim_value")
    dim.dim_param = "batch"


def main():
    model = onnx.load(SOURCE)
    graph = model.graph
    free_batch_dim(next(i for i in graph.input if i.name == "Input3"))
    free_batch_dim(next(o for o in graph.output if o.name == "Plus214_Output_0"))
    shape = next(t for t in graph.initializer if t.name == FLATTEN_SHAPE)
    if list(numpy_helper.to_array(shape)) != [1, 256]:
        raise SystemExit(f"{FLATTEN_SHAPE} is not [1, 256]: not the expected mnist.onnx")
    shape.CopyFrom(numpy_helper.from_array(np.array([-1, 256], dtype=np.int64), FLATTEN_SHAPE))
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, TARGET)


if __name__ == "__main__":
    main()
