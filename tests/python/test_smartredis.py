"""SmartRedis 0.6.1 against redis-server with the gorai module loaded.

Install the client first: pip install -r tests/requirements.txt
Run: python -m pytest tests/python (the server fixture is in conftest.py)

The server is redis-server from PATH ($REDIS_SERVER overrides); the module is
$GORAI_MODULE or <repo>/build/gorai.so.
"""

import numpy as np
import pytest

DTYPES = [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16]
SHAPES = [(7,), (3, 4), (2, 3, 5), (2, 1, 3, 4)]


def _random(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 1e3).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_put_get_tensor(client, dtype, shape):
    rng = np.random.default_rng(abs(hash((np.dtype(dtype).name, shape))) % (2**32))
    data = _random(rng, dtype, shape)
    key = f"sr:{np.dtype(dtype).name}:{'x'.join(map(str, shape))}"
    client.put_tensor(key, data)
    assert client.tensor_exists(key)
    got = client.get_tensor(key)
    assert got.dtype == data.dtype, f"dtype {got.dtype} != {data.dtype}"
    assert got.shape == data.shape, f"shape {got.shape} != {data.shape}"
    assert np.array_equal(got, data)
    # bitwise equality, including for floats
    assert got.tobytes() == data.tobytes()


def test_extremes(client):
    # (Fortran-ordered numpy arrays are not covered: the 0.6.1 Python binding
    # sends their raw memory as if it were C order, a client-side matter.)
    for dtype in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16):
        info = np.iinfo(dtype)
        arr = np.array([info.min, info.max, 0, -1 if info.min < 0 else 1], dtype=dtype)
        client.put_tensor("sr:ext", arr)
        got = client.get_tensor("sr:ext")
        assert got.dtype == arr.dtype and np.array_equal(got, arr)
    f = np.array([np.inf, -np.inf, -0.0, np.finfo(np.float32).tiny, np.finfo(np.float32).max], dtype=np.float32)
    client.put_tensor("sr:fext", f)
    assert client.get_tensor("sr:fext").tobytes() == f.tobytes()


def test_overwrite_copy_rename_delete(client):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    client.put_tensor("sr:a", a)
    b = np.arange(4, dtype=np.uint16)
    client.put_tensor("sr:a", b)
    got = client.get_tensor("sr:a")
    assert got.dtype == np.uint16 and np.array_equal(got, b)
    client.copy_tensor("sr:a", "sr:b")
    assert np.array_equal(client.get_tensor("sr:b"), b)
    client.rename_tensor("sr:b", "sr:c")
    assert not client.tensor_exists("sr:b")
    assert np.array_equal(client.get_tensor("sr:c"), b)
    client.delete_tensor("sr:c")
    assert not client.tensor_exists("sr:c")


def test_dataset_round_trip(client):
    from smartredis import Dataset

    ds = Dataset("sr-ds")
    arrays = {
        "f32": np.random.default_rng(1).standard_normal((3, 2)).astype(np.float32),
        "i64": np.arange(5, dtype=np.int64) - 2,
        "u8": np.arange(8, dtype=np.uint8).reshape(2, 2, 2),
    }
    for name, arr in arrays.items():
        ds.add_tensor(name, arr)
    ds.add_meta_scalar("step", 7)
    client.put_dataset(ds)
    assert client.dataset_exists("sr-ds")
    got = client.get_dataset("sr-ds")
    for name, arr in arrays.items():
        t = got.get_tensor(name)
        assert t.dtype == arr.dtype and np.array_equal(t, arr)
