"""SmartRedis 0.6.1 model calls against the gorai module, the way SmartSim's
tests/backends/run_sklearn_onnx.py uses them: scikit-learn models converted by
skl2onnx, stored with set_model, run with run_model, outputs read back with
get_tensor and compared with scikit-learn's own predictions.

The models and expected predictions are committed under models/ (made by
make_sklearn_models.py), so this needs only smartredis and numpy. The server
fixture is in conftest.py.
"""

from pathlib import Path

import numpy as np
import pytest

MODELS = Path(__file__).resolve().parent / "models"
DEFAULT_CHUNK_SIZE = 511 * 1024 * 1024


def _load(name):
    return np.load(MODELS / name)


def _model_bytes(name):
    return (MODELS / name).read_bytes()


def test_kmeans(client):
    X = _load("kmeans_X.npy")
    client.put_tensor("input", X)
    client.set_model("kmeans", _model_bytes("kmeans.onnx"), "ONNX", device="CPU")
    assert client.model_exists("kmeans")
    client.run_model("kmeans", inputs="input", outputs=["labels", "transform"])

    labels = client.get_tensor("labels")
    want_labels = _load("kmeans_labels.npy")
    assert labels.dtype == np.int64
    assert labels.shape == (10,)
    assert np.array_equal(labels, want_labels)

    transform = client.get_tensor("transform")
    want_transform = _load("kmeans_transform.npy")
    assert transform.dtype == np.float32
    assert transform.shape == (10, 2)
    np.testing.assert_allclose(transform, want_transform, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "inputs,expected",
    [("random_forest_X.npy", "random_forest_pred.npy"), ("random_forest_X_all.npy", "random_forest_pred_all.npy")],
    ids=["first-10-rows", "all-150-rows"],
)
def test_random_forest(client, inputs, expected):
    X = _load(inputs)
    want = _load(expected)
    client.put_tensor("input", X)
    client.set_model("random_forest", _model_bytes("random_forest.onnx"), "ONNX", device="CPU")
    client.run_model("random_forest", inputs="input", outputs="output")
    got = client.get_tensor("output")
    assert got.dtype == np.float32
    assert got.shape == (len(X), 1)
    np.testing.assert_allclose(got.ravel(), want, rtol=0, atol=1e-4)


def test_set_model_from_file_get_delete(client):
    from smartredis.error import RedisReplyError

    path = MODELS / "kmeans.onnx"
    client.set_model_from_file("kmeans_file", str(path), "ONNX", device="CPU", tag="from-file")
    assert client.model_exists("kmeans_file")
    assert client.get_model("kmeans_file") == path.read_bytes()

    X = _load("kmeans_X.npy")
    client.put_tensor("kf_input", X)
    client.run_model("kmeans_file", inputs=["kf_input"], outputs=["kf_labels", "kf_transform"])
    assert np.array_equal(client.get_tensor("kf_labels"), _load("kmeans_labels.npy"))

    client.delete_model("kmeans_file")
    assert not client.model_exists("kmeans_file")
    with pytest.raises(RedisReplyError):
        client.get_model("kmeans_file")
    with pytest.raises(RedisReplyError):
        client.run_model("kmeans_file", inputs=["kf_input"], outputs=["kf_labels", "kf_transform"])
    with pytest.raises(RedisReplyError):
        client.delete_model("kmeans_file")


def test_get_model_bytes_equal(client):
    for name in ("kmeans.onnx", "random_forest.onnx"):
        blob = _model_bytes(name)
        key = "bytes:" + name
        client.set_model(key, blob, "ONNX", device="CPU")
        assert client.get_model(key) == blob


def test_set_model_in_chunks(client):
    # set_model splits the blob into MODEL_CHUNK_SIZE pieces (AI.MODELSTORE ...
    # BLOB <chunk> <chunk> ...); the server joins them.
    blob = _model_bytes("random_forest.onnx")
    client.set_model_chunk_size(1000)
    try:
        client.set_model("rf_chunked", blob, "ONNX", device="CPU")
    finally:
        # SmartRedis cannot reassemble a chunked AI.MODELGET reply, so read it
        # back with the default chunk size
        client.set_model_chunk_size(DEFAULT_CHUNK_SIZE)
    assert client.get_model("rf_chunked") == blob
    X = _load("random_forest_X_all.npy")
    client.put_tensor("rfc_input", X)
    client.run_model("rf_chunked", inputs="rfc_input", outputs="rfc_output")
    np.testing.assert_allclose(client.get_tensor("rfc_output").ravel(), _load("random_forest_pred_all.npy"), rtol=0, atol=1e-4)


def test_model_errors(client):
    from smartredis.error import RedisReplyError

    with pytest.raises(RedisReplyError):
        client.set_model("garbage", b"not an onnx model", "ONNX", device="CPU")
    assert not client.model_exists("garbage")
    client.set_model("kmeans_err", _model_bytes("kmeans.onnx"), "ONNX", device="CPU")
    # wrong input shape: an error from ONNX Runtime
    client.put_tensor("bad_input", np.zeros((3, 5), dtype=np.float32))
    with pytest.raises(RedisReplyError):
        client.run_model("kmeans_err", inputs="bad_input", outputs=["l", "t"])
    # missing input
    with pytest.raises(RedisReplyError):
        client.run_model("kmeans_err", inputs="no_such_tensor", outputs=["l", "t"])
    assert not client.tensor_exists("l")


def test_ai_info(client, server):
    from smartredis.error import RedisReplyError

    address = [f"127.0.0.1:{server.port}"]
    client.set_model("info_model", _model_bytes("kmeans.onnx"), "ONNX", device="CPU")
    client.put_tensor("info_input", _load("kmeans_X.npy"))
    for _ in range(2):
        client.run_model("info_model", inputs="info_input", outputs=["il", "it"])
    (info,) = client.get_ai_info(address, "info_model")
    assert info["key"] == "info_model"
    assert info["type"] == "MODEL"
    assert info["backend"] == "ONNX"
    assert info["device"] == "CPU"
    assert int(info["calls"]) == 2
    assert int(info["samples"]) == 20
    assert int(info["errors"]) == 0
    assert int(info["duration"]) > 0
    with pytest.raises(RedisReplyError):
        client.get_ai_info(address, "no_such_model")
