"""SmartRedis 0.6.1 with a TF model, the way SmartSim's tests/backends/run_tf.py
uses it: a Keras FCN (Sequential: InputLayer (28,28) -> Flatten ->
Dense(128, relu) -> Dense(10, softmax)) frozen by SmartSim's freeze_model,
stored with set_model_from_file(..., "TF", device="CPU", inputs=..., outputs=...),
run with run_model on rand(1,28,28), and the output read back with get_tensor
and compared with Keras' own prediction.

The frozen graph, its input/output names, the inputs and Keras' outputs are
committed under models/ (made by make_keras_model.py), so this needs only
smartredis and numpy; the server needs TensorFlow's C library under
build/backends/tf/ (build/fetch-tensorflow.sh). The server fixture is in
conftest.py.
"""

import json
from pathlib import Path

import numpy as np
import pytest

MODELS = Path(__file__).resolve().parent / "models"
KERAS = MODELS / "keras_fcn.pb"
GRAPH = Path(__file__).resolve().parents[2] / "testdata" / "redisai" / "graph.pb"

# Softmax outputs of about 0.1; the server runs the same TensorFlow as the one
# that made the expected outputs, so only thread-count dependent rounding can
# differ.
ATOL = 1e-5
RTOL = 1e-5


def _load(name):
    return np.load(MODELS / name)


def _names():
    meta = json.loads((MODELS / "keras_fcn.json").read_text())
    return meta["inputs"], meta["outputs"]


def _check(got, want):
    assert got.dtype == np.float32
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def _graph_bytes():
    if not GRAPH.exists():
        pytest.fail(f"fixture missing: {GRAPH} (testdata/redisai is part of the repository)")
    return GRAPH.read_bytes()


def test_keras_fcn_from_file(client):
    inputs, outputs = _names()
    assert (inputs, outputs) == (["x"], ["Identity"])
    client.set_model_from_file("keras_fcn", str(KERAS), "TF", device="CPU", inputs=inputs, outputs=outputs)
    assert client.model_exists("keras_fcn")
    assert client.get_model("keras_fcn") == KERAS.read_bytes()

    X = _load("keras_fcn_input.npy")
    assert X.shape == (1, 28, 28) and X.dtype == np.float32
    client.put_tensor("input", X)
    client.run_model("keras_fcn", inputs=["input"], outputs=["output"])
    got = client.get_tensor("output")
    _check(got, _load("keras_fcn_output.npy"))
    np.testing.assert_allclose(got.sum(), 1.0, atol=1e-5)
    # the input is untouched
    assert np.array_equal(client.get_tensor("input"), X)


def test_keras_fcn_batch_5(client):
    inputs, outputs = _names()
    client.set_model("keras_fcn_5", KERAS.read_bytes(), "TF", device="CPU", inputs=inputs, outputs=outputs)
    X = _load("keras_fcn_input_5.npy")
    want = _load("keras_fcn_output_5.npy")
    client.put_tensor("input_5", X)
    client.run_model("keras_fcn_5", inputs="input_5", outputs="output_5")
    _check(client.get_tensor("output_5"), want)
    # the rows really differ (so a mixed-up batch would be caught)
    assert np.abs(want[0] - want[1]).max() > 100 * ATOL


def test_keras_fcn_auto_batching(client):
    inputs, outputs = _names()
    client.set_model(
        "keras_fcn_b", KERAS.read_bytes(), "TF", device="CPU", batch_size=8, inputs=inputs, outputs=outputs
    )
    X = _load("keras_fcn_input_5.npy")
    want = _load("keras_fcn_output_5.npy")
    for i in range(len(X)):
        client.put_tensor(f"b_in_{i}", X[i : i + 1])
        client.run_model("keras_fcn_b", inputs=f"b_in_{i}", outputs=f"b_out_{i}")
        _check(client.get_tensor(f"b_out_{i}"), want[i : i + 1])


def test_graph_pb(client):
    # The reference system's own TF fixture: c = a*b.
    client.set_model("graph", _graph_bytes(), "TF", device="CPU", inputs=["a", "b"], outputs=["c"])
    client.put_tensor("a", np.array([2, 3], dtype=np.float32))
    client.put_tensor("b", np.array([2, 3], dtype=np.float32))
    client.run_model("graph", inputs=["a", "b"], outputs=["c"])
    got = client.get_tensor("c")
    assert got.dtype == np.float32
    assert np.array_equal(got, np.array([4, 9], dtype=np.float32))


def test_tf_errors(client):
    from smartredis.error import RedisReplyError

    blob = _graph_bytes()
    cases = [
        (b"not a graph", ["a", "b"], ["c"], "CPU", "Invalid GraphDef"),
        (blob, ["a", "nope"], ["c"], "CPU", 'Input node named "nope" not found in TF graph.'),
        (blob, ["a", "mul"], ["c"], "CPU", 'Input node named "mul" not found in TF graph.'),
        (blob, ["a", "b"], ["nope"], "CPU", 'Output node named "nope" not found in TF graph'),
        (blob, ["a", "b"], ["c"], "GPU", "GPU requested but TF couldn't find CUDA"),
    ]
    for i, (model, ins, outs, device, text) in enumerate(cases):
        with pytest.raises(RedisReplyError) as e:
            client.set_model(f"bad_{i}", model, "TF", device=device, inputs=ins, outputs=outs)
        assert text in str(e.value)
        assert not client.model_exists(f"bad_{i}")

    # a graph that fails at run time: TensorFlow's message, and the model still runs
    client.set_model("graph_err", blob, "TF", device="CPU", inputs=["a", "b"], outputs=["c"])
    client.put_tensor("e_a", np.array([1, 2], dtype=np.float32))
    client.put_tensor("e_b", np.zeros((2, 2, 3), dtype=np.float32))
    with pytest.raises(RedisReplyError) as e:
        client.run_model("graph_err", inputs=["e_a", "e_b"], outputs=["e_c"])
    assert "Incompatible shapes: [2] vs. [2,2,3]" in str(e.value)
    assert not client.tensor_exists("e_c")
    client.run_model("graph_err", inputs=["e_a", "e_a"], outputs=["e_c"])
    assert np.array_equal(client.get_tensor("e_c"), np.array([1, 4], dtype=np.float32))


def test_ai_info_tf(client, server):
    inputs, outputs = _names()
    address = [f"127.0.0.1:{server.port}"]
    client.set_model("info_tf", KERAS.read_bytes(), "TF", device="CPU", inputs=inputs, outputs=outputs)
    client.put_tensor("info_tf_in", _load("keras_fcn_input_5.npy"))
    for _ in range(2):
        client.run_model("info_tf", inputs="info_tf_in", outputs="info_tf_out")
    (info,) = client.get_ai_info(address, "info_tf")
    assert info["backend"] == "TF"
    assert int(info["calls"]) == 2
    assert int(info["samples"]) == 10
    assert int(info["errors"]) == 0
