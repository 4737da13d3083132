#!/usr/bin/env python3
"""Writes testdata/infinite_loop.onnx: a model that runs for as long as its inputs ask, doing nothing.

Four inputs, as the model of RedisAI's kill-switch test takes them: outer_scope_input FLOAT [1] goes
through an Identity to outer_scope_output; iterations INT64 [1] (the trip count), loop_cond BOOL [1]
and loop_input FLOAT [1] drive a Loop whose body copies its state unchanged (an Identity) and keeps
the condition true, to loop_output. With iterations at 2^63-1 the run never ends by itself: only
MODEL_EXECUTION_TIMEOUT's terminate flag stops it.

Usage: python3 testdata/make_infinite_loop.py   (needs the `onnx` package: pip install onnx)
"""
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "infinite_loop.onnx")


def main():
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Identity", ["state_in"], ["state_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [1]),
        ],
    )
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["outer_scope_input"], ["outer_scope_output"]),
            helper.make_node("Squeeze", ["iterations"], ["trip_count"]),
            helper.make_node("Squeeze", ["loop_cond"], ["cond"]),
            helper.make_node("Loop", ["trip_count", "cond", "loop_input"], ["loop_output"], body=body),
        ],
        "infinite_loop",
        [
            helper.make_tensor_value_info("outer_scope_input", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("iterations", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("loop_cond", TensorProto.BOOL, [1]),
            helper.make_tensor_value_info("loop_input", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("outer_scope_output", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("loop_output", TensorProto.FLOAT, [1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gorai")
    model.ir_version = 7
    onnx.checker.check_model(model)
    with open(TARGET, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
