"""SmartRedis 0.6.1 with a TORCH model, the way SmartSim's
tests/backends/run_torch.py uses it: the MNIST-example CNN traced with
torch.jit.trace, stored with set_model(..., "TORCH", device="CPU"), run with
run_model on a batch of 20 random images, the output read back with get_tensor
and compared with what torch itself computed.

The model, inputs and torch's outputs are committed under models/ (made by
make_torch_models.py: cnn* by torch 1.13, cnn_torch2* by torch 2.15, which
the server's libtorch must both run), so this needs only smartredis and numpy.
The server fixture is in conftest.py.
"""

from pathlib import Path

import numpy as np
import pytest

MODELS = Path(__file__).resolve().parent / "models"
CNN = MODELS / "cnn.pt"

# log_softmax values are about -2.3; only rounding that depends on the thread
# count or on the libtorch version (1.13 made cnn's outputs) can differ.
ATOL = 1e-5
RTOL = 1e-5


def _load(name):
    return np.load(MODELS / name)


def _check(got, want):
    assert got.dtype == np.float32
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


# The CNN as torch 1.13 and torch 2.15 traced it.
MAKERS = ["cnn", "cnn_torch2"]


@pytest.mark.parametrize("cnn", MAKERS)
def test_cnn_batch_20(client, cnn):
    X = _load(f"{cnn}_input.npy")
    want = _load(f"{cnn}_output.npy")
    assert X.shape == (20, 1, 28, 28) and X.dtype == np.float32
    client.put_tensor("input", X)
    client.set_model(cnn, (MODELS / f"{cnn}.pt").read_bytes(), "TORCH", device="CPU")
    assert client.model_exists(cnn)
    client.run_model(cnn, inputs=["input"], outputs=["output"])
    _check(client.get_tensor("output"), want)
    # the rows really differ (so a mixed-up batch would be caught)
    assert np.abs(want[0] - want[1]).max() > 100 * ATOL
    # the input is untouched
    assert np.array_equal(client.get_tensor("input"), X)


@pytest.mark.parametrize("cnn", MAKERS)
def test_cnn_batch_1(client, cnn):
    X1 = _load(f"{cnn}_input_1.npy")
    want = _load(f"{cnn}_output_1.npy")
    assert X1.shape == (1, 1, 28, 28)
    client.put_tensor("input_1", X1)
    client.set_model("cnn_1", (MODELS / f"{cnn}.pt").read_bytes(), "TORCH", device="CPU")
    client.run_model("cnn_1", inputs="input_1", outputs="output_1")
    _check(client.get_tensor("output_1"), want)
    # and the same row computed in the batch of 20
    np.testing.assert_allclose(client.get_tensor("output_1")[0], _load(f"{cnn}_output.npy")[0], rtol=RTOL, atol=ATOL)


def test_cnn_set_model_from_file_get_model(client):
    blob = CNN.read_bytes()
    client.set_model_from_file("cnn_file", str(CNN), "TORCH", device="CPU", tag="from-file")
    assert client.model_exists("cnn_file")
    assert client.get_model("cnn_file") == blob

    client.set_model("cnn_bytes", blob, "TORCH", device="CPU")
    assert client.get_model("cnn_bytes") == blob

    client.put_tensor("f_input", _load("cnn_input.npy"))
    client.run_model("cnn_file", inputs=["f_input"], outputs=["f_output"])
    _check(client.get_tensor("f_output"), _load("cnn_output.npy"))

    client.delete_model("cnn_file")
    assert not client.model_exists("cnn_file")


def test_cnn_errors(client):
    from smartredis.error import RedisReplyError

    with pytest.raises(RedisReplyError):
        client.set_model("cnn_garbage", b"not a TorchScript model", "TORCH", device="CPU")
    assert not client.model_exists("cnn_garbage")

    client.set_model("cnn_err", CNN.read_bytes(), "TORCH", device="CPU")
    # a wrong shape: libtorch's error, no output
    client.put_tensor("bad_shape", np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(RedisReplyError):
        client.run_model("cnn_err", inputs="bad_shape", outputs="bad_out")
    assert not client.tensor_exists("bad_out")
    # the model still works after the failed run
    client.put_tensor("ok_input", _load("cnn_input_1.npy"))
    client.run_model("cnn_err", inputs="ok_input", outputs="ok_out")
    _check(client.get_tensor("ok_out"), _load("cnn_output_1.npy"))


def test_cnn_ai_info(client, server):
    address = [f"127.0.0.1:{server.port}"]
    client.set_model("cnn_info", CNN.read_bytes(), "TORCH", device="CPU")
    client.put_tensor("info_input", _load("cnn_input.npy"))
    for _ in range(2):
        client.run_model("cnn_info", inputs="info_input", outputs="info_output")
    (info,) = client.get_ai_info(address, "cnn_info")
    assert info["key"] == "cnn_info"
    assert info["type"] == "MODEL"
    assert info["backend"] == "TORCH"
    assert info["device"] == "CPU"
    assert int(info["calls"]) == 2
    assert int(info["samples"]) == 40
    assert int(info["errors"]) == 0
    assert int(info["duration"]) > 0
