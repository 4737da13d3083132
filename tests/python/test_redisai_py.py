"""redisai-py 1.3.0 (RedisAI's own Python client) against the gorai module.

Everything goes through the real ``redisai.Client`` (a redis-py 4.x StrictRedis
subclass), so these tests check the reply shapes its post-processing relies on
(clients.md §7): ``list2dict`` needs flat even-length arrays of bulk strings and
lower-cases the keys, ``tensorget`` maps the dtype text straight to a numpy
name, ``modelget`` returns a list of chunks when the blob is bigger than
MODEL_CHUNK_SIZE, ``config`` returns the integer chunk size as-is and ``None``
for an unknown name, and redisai-py's own test suite compares several error
strings exactly (redis-py strips the leading ``ERR ``).

Fixtures: RedisAI's models in testdata/redisai (graph.pb, mnist.onnx,
linear_iris.onnx, one.png; shipped in the repository, a missing one fails) and the TorchScript model backends/torch/testdata/two_inputs.pt
(forward(a, b) = a + 2*b). The server fixture is in conftest.py.
"""

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

redisai = pytest.importorskip("redisai")
import redis  # noqa: E402  (redis-py, installed with redisai)
from redis.exceptions import ResponseError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "testdata" / "redisai"
TWO_INPUTS_PT = REPO / "backends" / "torch" / "testdata" / "two_inputs.pt"

DEFAULT_CHUNK_SIZE = 511 * 1024 * 1024

# RedisAI 1.2.7's error texts that redisai-py's test suite compares exactly.
ERR_TENSOR_EMPTY = "tensor key is empty or in a different shard"
ERR_SCRIPT_EMPTY = "script key is empty"
ERR_MODEL_EMPTY = "model key is empty"
ERR_UNSUPPORTED_SUBCOMMAND = "unsupported subcommand"
ERR_INVALID_CHUNK = "MODEL_CHUNK_SIZE: invalid chunk size"
ERR_LOADING_BACKEND = "error loading backend"
ERR_WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

# redisai-py's as_numpy_mutable uses numpy's deprecated np.fromstring
pytestmark = pytest.mark.filterwarnings("ignore:The binary mode of fromstring:DeprecationWarning")

# The scripts of redisai-py's test/test.py (entry-point signature, and the old positional one).
SCRIPT = r"""
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0]
    b = tensors[1]
    return a + b

def bar_variadic(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0]
    l = tensors[1:]
    return a + l[0]

def scale_shift(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * float(args[0]), tensors[0] + float(args[1])
"""

SCRIPT_OLD = r"""
def bar(a, b):
    return a + b

def bar_variadic(a, args : List[Tensor]):
    return args[0] + args[1]
"""

SCRIPT_WITH_REDIS_COMMANDS = r"""
def redis_string_int_to_tensor(redis_value: Any):
    return torch.tensor(int(str(redis_value)))

def int_set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    key = keys[0]
    value = int(args[0])
    redis.execute("SET", key, str(value))
    res = redis.execute("GET", key)
    return redis_string_int_to_tensor(res)

def func(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    a = torch.stack(tensors).sum()
    b = redis_string_int_to_tensor(redis.execute("GET", keys[0]))
    redis.execute("DEL", keys[0])
    return b + a
"""


def _fixture(name):
    p = FIXTURES / name
    if not p.exists():
        pytest.fail(f"fixture missing: {p} (testdata/redisai is part of the repository)")
    return p.read_bytes()


def _two_inputs_pt():
    if not TWO_INPUTS_PT.exists():
        pytest.skip(f"fixture missing: {TWO_INPUTS_PT}")
    return TWO_INPUTS_PT.read_bytes()


def _png_gray8(data):
    """Decodes a non-interlaced 8-bit greyscale PNG (one.png) to a uint8 array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, color, interlace) == (8, 0, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    out = np.zeros((height, width), dtype=np.int32)
    prev = np.zeros(width, dtype=np.int32)
    for y in range(height):
        row = raw[y * (width + 1):(y + 1) * (width + 1)]
        ftype, line = row[0], np.frombuffer(row[1:], dtype=np.uint8).astype(np.int32)
        cur = np.zeros(width, dtype=np.int32)
        for x in range(width):
            a = cur[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                raise ValueError(f"PNG filter {ftype}")
            cur[x] = (line[x] + pred) & 0xFF
        out[y] = cur
        prev = cur
    return out.astype(np.uint8)


@pytest.fixture(scope="module")
def rai(server):
    return redisai.Client(host="127.0.0.1", port=server.port)


@pytest.fixture
def con(rai, server):
    """A redisai-py client on an empty database with the default configuration."""
    rai.flushall()
    yield rai
    rai.config("MODEL_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)
    rai.config("BACKENDSPATH", server.backends_path)


def _store_graph(con, key="m", tag=None, device="cpu"):
    kw = {} if tag is None else {"tag": tag}
    return con.modelstore(key, "tf", device, _fixture("graph.pb"), inputs=["a", "b"], outputs=["mul"], **kw)


# ---------------------------------------------------------------- package


def test_package_versions():
    from importlib.metadata import version

    assert version("redisai") == "1.3.0"
    major, minor = (int(x) for x in redis.__version__.split(".")[:2])
    assert (4, 1) <= (major, minor) < (5, 0), redis.__version__
    assert issubclass(redisai.Client, redis.StrictRedis)


# ---------------------------------------------------------------- tensors

NUMPY_DTYPES = {
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "bool": "BOOL",
}


def _sample(dtype):
    rng = np.random.default_rng(7)
    if dtype == "bool":
        return rng.integers(0, 2, size=(2, 3, 4)).astype(bool)
    if dtype.startswith("float"):
        a = rng.standard_normal((2, 3, 4)).astype(dtype) * 1000
        a.flat[0] = np.finfo(dtype).max
        a.flat[1] = np.finfo(dtype).tiny
        a.flat[2] = -0.0
        return a
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=(2, 3, 4), endpoint=True).astype(dtype)
    a.flat[0], a.flat[1] = info.min, info.max
    return a


@pytest.mark.parametrize("dtype", list(NUMPY_DTYPES))
def test_tensor_numpy_round_trip(con, dtype):
    a = _sample(dtype)
    assert con.tensorset("x", a) == "OK"

    got = con.tensorget("x")  # META BLOB
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == a.shape
    assert got.tobytes() == a.tobytes()
    with pytest.raises(ValueError):  # frombuffer: read-only unless as_numpy_mutable
        np.put(got, 0, 1)
    mutable = con.tensorget("x", as_numpy_mutable=True)
    assert mutable.tobytes() == a.tobytes()
    np.put(mutable, 0, 1)

    meta = con.tensorget("x", meta_only=True)  # META only
    assert meta == {"dtype": NUMPY_DTYPES[dtype], "shape": [2, 3, 4]}

    res = con.tensorget("x", as_numpy=False)  # META VALUES
    assert set(res) == {"dtype", "shape", "values"}
    assert res["dtype"] == NUMPY_DTYPES[dtype]
    assert res["shape"] == [2, 3, 4]
    values = res["values"]
    if dtype.startswith("float"):
        # RedisAI replies floats as bulk strings that round-trip exactly; redisai-py calls float()
        assert all(type(v) is float for v in values)
        assert values == a.astype(np.float64).ravel().tolist()
        assert np.signbit(values[2])
    else:
        assert all(type(v) is int for v in values)
        assert values == a.astype(np.int64).ravel().tolist()

    # a tensor read back can be stored again (redisai-py's test_numpy_tensor)
    assert con.tensorset("y", got) == "OK"
    assert con.tensorget("y").tobytes() == a.tobytes()


def test_tensor_numpy_default_int_and_float(con):
    con.tensorset("x", np.array([2, 3]))
    values = con.tensorget("x")
    assert values.dtype == np.int64 and values.shape == (2,)
    assert np.array_equal(values, [2, 3])
    con.tensorset("x", np.array([2, 3], dtype=np.float32))
    assert con.tensorget("x").dtype == np.float32
    con.tensorset("x", np.array([2, 3], dtype=np.float64))
    assert con.tensorget("x").dtype == np.float64


VALUE_DTYPES = [
    ("float", "FLOAT"),
    ("double", "DOUBLE"),
    ("float32", "FLOAT"),
    ("float64", "DOUBLE"),
    ("int8", "INT8"),
    ("int16", "INT16"),
    ("int32", "INT32"),
    ("int64", "INT64"),
    ("uint8", "UINT8"),
    ("uint16", "UINT16"),
    ("bool", "BOOL"),
]


@pytest.mark.parametrize("dtype,rai_dtype", VALUE_DTYPES)
def test_tensorset_values_list(con, dtype, rai_dtype):
    vals = [1, 0, 1, 1] if rai_dtype == "BOOL" else [2, 3, 4, 5]
    assert con.tensorset("x", vals, dtype=dtype) == "OK"  # shape defaults to (len,)
    res = con.tensorget("x", as_numpy=False)
    assert res == {"dtype": rai_dtype, "shape": [4], "values": vals}

    assert con.tensorset("x", tuple(vals), shape=(2, 2), dtype=dtype) == "OK"
    res = con.tensorget("x", as_numpy=False)
    assert res == {"dtype": rai_dtype, "shape": [2, 2], "values": vals}

    arr = con.tensorget("x")
    assert arr.shape == (2, 2)
    assert arr.ravel().tolist() == ([bool(v) for v in vals] if rai_dtype == "BOOL" else vals)
    assert con.tensorget("x", meta_only=True) == {"dtype": rai_dtype, "shape": [2, 2]}


def test_tensorset_values_floats_and_negatives(con):
    con.tensorset("x", [1.5, -2.25, 1e-3, 3.0e38], dtype="float64")
    assert con.tensorget("x", as_numpy=False)["values"] == [1.5, -2.25, 1e-3, 3.0e38]
    con.tensorset("x", [0.1, -7.75], dtype="float")
    assert con.tensorget("x", as_numpy=False)["values"] == [float(np.float32(0.1)), -7.75]
    con.tensorset("x", [-128, 127], dtype="int8")
    assert con.tensorget("x", as_numpy=False)["values"] == [-128, 127]
    con.tensorset("x", [-(2 ** 63), 2 ** 63 - 1], dtype="int64")
    assert con.tensorget("x", as_numpy=False)["values"] == [-(2 ** 63), 2 ** 63 - 1]
    con.tensorset("x", [65535, 0], dtype="uint16")
    assert np.array_equal(con.tensorget("x"), np.array([65535, 0], dtype=np.uint16))


def test_redisai_py_set_non_numpy_tensor(con):
    # redisai-py's test_set_non_numpy_tensor
    con.tensorset("x", (2, 3, 4, 5), dtype="float")
    result = con.tensorget("x", as_numpy=False)
    assert result["values"] == [2, 3, 4, 5]
    assert result["shape"] == [4]
    con.tensorset("x", (2, 3, 4, 5), dtype="float64")
    result = con.tensorget("x", as_numpy=False)
    assert result["dtype"] == "DOUBLE"
    con.tensorset("x", (2, 3, 4, 5), dtype="int16", shape=(2, 2))
    result = con.tensorget("x", as_numpy=False)
    assert result["values"] == [2, 3, 4, 5] and result["shape"] == [2, 2]
    with pytest.raises(TypeError):
        con.tensorset("x", (2, 3, 4, 5), dtype="wrongtype", shape=(2, 2))
    con.tensorset("x", (2, 3, 4, 5), dtype="int8", shape=(2, 2))
    result = con.tensorget("x", as_numpy=False)
    assert result["dtype"] == "INT8"
    assert "values" in result
    assert "values" not in con.tensorget("x", meta_only=True)


def test_tensor_string(con):
    a = np.array([["ab", ""], ["c", "déf"]])
    assert con.tensorset("s", a) == "OK"  # STRING, NUL-terminated blob
    got = con.tensorget("s")
    assert got.shape == (2, 2)
    assert got.tolist() == a.tolist()
    assert con.tensorget("s", meta_only=True) == {"dtype": "STRING", "shape": [2, 2]}
    assert con.tensorget("s", as_numpy=False) == {
        "dtype": "STRING", "shape": [2, 2], "values": ["ab", "", "c", "déf"]}

    assert con.tensorset("s2", ["x", "yz"], dtype="str") == "OK"
    assert con.tensorget("s2", as_numpy=False) == {"dtype": "STRING", "shape": [2], "values": ["x", "yz"]}

    # a 0-d string array: STRING with no dims (redisai-py's older test expected a client TypeError)
    assert con.tensorset("s0", np.array("dummy")) == "OK"
    assert con.tensorget("s0", meta_only=True) == {"dtype": "STRING", "shape": []}
    got = con.tensorget("s0")
    assert got.shape == () and got.item() == "dummy"


def test_tensor_scalar(con):
    assert con.tensorset("z", np.array(3.5, dtype=np.float32)) == "OK"  # no dims, BLOB
    got = con.tensorget("z")
    assert got.shape == () and got.dtype == np.float32 and got.item() == 3.5
    assert con.tensorget("z", as_numpy=False) == {"dtype": "FLOAT", "shape": [], "values": [3.5]}


@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
def test_tensor_unsigned_32_64_refused(con, dtype):
    # redisai-py maps them, RedisAI 1.2.7 does not accept them
    with pytest.raises(ResponseError):
        con.tensorset("x", np.array([1, 2], dtype=dtype))
    with pytest.raises(ResponseError):
        con.tensorset("x", [1, 2], dtype=dtype)
    assert con.exists("x") == 0


def test_tensor_errors(con):
    with pytest.raises(ResponseError) as e:
        con.tensorget("missing")
    assert str(e.value) == ERR_TENSOR_EMPTY
    con.set("str", "v")
    with pytest.raises(ResponseError) as e:
        con.tensorget("str")
    assert str(e.value) == ERR_WRONGTYPE
    with pytest.raises(ResponseError):
        con.tensorset("x", [1, 2, 3], shape=(2, 2), dtype="float")  # too few values
    with pytest.raises(ResponseError):
        con.tensorset("x", [256], dtype="uint8")  # out of range
    assert con.exists("x") == 0
    with pytest.raises(TypeError):
        con.tensorset("x", np.array([1, 2], dtype=np.float16))  # client refuses unmapped dtypes


@pytest.mark.parametrize("transaction", [True, False])
def test_pipeline(con, transaction):
    # redisai-py's test_pipeline_(non_)transaction: MULTI/EXEC by default
    arr = np.array([[2.0, 3.0], [2.0, 3.0]], dtype=np.float32)
    pipe = con.pipeline(transaction=transaction)
    pipe = pipe.tensorset("a", arr).set("native", 1)
    pipe = pipe.tensorget("a", as_numpy=False)
    pipe = pipe.tensorget("a", as_numpy=True).tensorget("a", meta_only=True)
    result = pipe.execute()
    assert result[0] == b"OK"
    assert result[1] is True
    assert result[2] == {"dtype": "FLOAT", "shape": [2, 2], "values": [2.0, 3.0, 2.0, 3.0]}
    assert isinstance(result[3], np.ndarray) and np.array_equal(result[3], arr)
    assert result[4] == {"dtype": "FLOAT", "shape": [2, 2]}
    assert len(result) == 5


# ---------------------------------------------------------------- models


def test_modelstore_modelget_tf(con):
    pb = _fixture("graph.pb")
    assert _store_graph(con, tag="v1.0") == "OK"
    meta = con.modelget("m", meta_only=True)
    assert meta == {
        "backend": "TF",
        "device": "cpu",
        "tag": "v1.0",
        "batchsize": 0,
        "minbatchsize": 0,
        "inputs": ["a", "b"],
        "outputs": ["mul"],
        "minbatchtimeout": 0,
    }
    full = con.modelget("m")
    assert list(full) == ["backend", "device", "tag", "batchsize", "minbatchsize", "inputs", "outputs",
                          "minbatchtimeout", "blob"]
    assert isinstance(full["blob"], bytes) and full["blob"] == pb
    assert {k: v for k, v in full.items() if k != "blob"} == meta


def test_modelstore_modelget_onnx_batching(con):
    iris = _fixture("linear_iris.onnx")
    assert con.modelstore("iris", "onnx", "CPU", iris, batch=4, minbatch=2, minbatchtimeout=100, tag="t1") == "OK"
    full = con.modelget("iris")
    assert full == {
        "backend": "ONNX",
        "device": "CPU",  # echoed in the case given
        "tag": "t1",
        "batchsize": 4,
        "minbatchsize": 2,
        "inputs": ["float_input"],
        "outputs": ["variable"],
        "minbatchtimeout": 100,
        "blob": iris,
    }
    assert con.modelstore("mnist", "onnx", "cpu", _fixture("mnist.onnx")) == "OK"
    assert con.modelget("mnist", meta_only=True) == {
        "backend": "ONNX",
        "device": "cpu",
        "tag": "",
        "batchsize": 0,
        "minbatchsize": 0,
        "inputs": ["Input3"],
        "outputs": ["Plus214_Output_0"],
        "minbatchtimeout": 0,
    }


def test_modelstore_torch(con):
    pt = _two_inputs_pt()
    assert con.modelstore("pt_model", "torch", "cpu", pt, tag="v7.0") == "OK"
    meta = con.modelget("pt_model", meta_only=True)
    assert meta["backend"] == "TORCH" and meta["device"] == "cpu" and meta["tag"] == "v7.0"
    assert meta["inputs"] == ["a", "b"]
    assert con.modelget("pt_model")["blob"] == pt


def test_modelstore_errors(con):
    # redisai-py's test_run_tf_model: a TorchScript file as a TF graph
    with pytest.raises(ResponseError) as e:
        con.modelstore("m", "tf", "cpu", _two_inputs_pt(), inputs=["a", "b"], outputs=["mul"])
    assert str(e.value) == "Invalid GraphDef"
    with pytest.raises(ResponseError):
        con.modelstore("m", "torch", "cpu", _fixture("graph.pb"))
    with pytest.raises(ResponseError):
        con.modelstore("m", "onnx", "cpu", b"not a model")
    assert con.exists("m") == 0
    # the client's own checks
    with pytest.raises(ValueError):
        con.modelstore("m", "tf", "cpu", _fixture("graph.pb"))  # TF needs inputs/outputs
    with pytest.raises(ValueError):
        con.modelstore("m", "onnx", "tpu", _fixture("linear_iris.onnx"))


def test_config_and_chunked_models(con, server):
    # redisai-py's test_config, with linear_iris.onnx (277 bytes: 4 chunks of len//3)
    iris = _fixture("linear_iris.onnx")
    mnist = _fixture("mnist.onnx")
    assert con.config("MODEL_CHUNK_SIZE") == DEFAULT_CHUNK_SIZE  # an integer, returned as-is
    assert isinstance(con.config("MODEL_CHUNK_SIZE"), int)
    assert con.modelstore("mnist", "onnx", "cpu", mnist) == "OK"  # one chunk

    chunk = len(iris) // 3
    assert con.config("MODEL_CHUNK_SIZE", chunk) == "OK"
    assert con.config("MODEL_CHUNK_SIZE") == chunk
    # modelstore reads MODEL_CHUNK_SIZE and sends BLOB in chunks of that size
    assert con.modelstore("iris", "onnx", "cpu", iris, tag="chunked") == "OK"
    chunks = con.modelget("iris")["blob"]
    assert isinstance(chunks, list)
    assert len(chunks) == 4
    assert [len(c) for c in chunks] == [chunk, chunk, chunk, len(iris) - 3 * chunk]
    assert b"".join(chunks) == iris
    # the model stored before the change is chunked on the way out too
    # RedisAI sends len/chunk + 1 chunks: mnist.onnx (26454 = 3 * 8818 bytes) ends with an empty one
    mchunks = con.modelget("mnist")["blob"]
    assert isinstance(mchunks, list) and len(mchunks) == len(mnist) // chunk + 1
    assert b"".join(mchunks) == mnist
    # META is the same with and without chunking
    assert con.modelget("iris", meta_only=True)["tag"] == "chunked"
    # the chunked model runs
    con.tensorset("f", np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32))
    assert con.modelexecute("iris", "f", "o") == "OK"
    assert con.tensorget("o")[0, 0] == np.float32(-0.090524077415466309)

    # chunked when len >= MODEL_CHUNK_SIZE (an exact multiple gives an empty last chunk), else one bulk string
    assert con.config("MODEL_CHUNK_SIZE", len(iris)) == "OK"
    assert con.modelget("iris")["blob"] == [iris, b""]
    assert con.config("MODEL_CHUNK_SIZE", len(iris) + 1) == "OK"
    assert con.modelget("iris")["blob"] == iris
    assert con.config("MODEL_CHUNK_SIZE", 26454 // 3) == "OK"
    assert [len(c) for c in con.modelget("mnist")["blob"]] == [8818, 8818, 8818, 0]
    assert con.config("MODEL_CHUNK_SIZE", DEFAULT_CHUNK_SIZE) == "OK"
    assert con.modelget("mnist")["blob"] == mnist

    # BACKENDSPATH: nil until set (RedisAI's own test asserts it on a fresh server), then a bulk string
    assert con.config("BACKENDSPATH") in (None, server.backends_path)  # set back by the fixture after a test
    assert con.config("BACKENDSPATH", "my/backends/path") == "OK"
    assert con.config("BACKENDSPATH") == "my/backends/path"
    assert con.config("BACKENDSPATH", server.backends_path) == "OK"

    # errors and unknown names
    with pytest.raises(ResponseError) as e:
        con.config("non-existing", "val")
    assert str(e.value) == ERR_UNSUPPORTED_SUBCOMMAND
    with pytest.raises(ResponseError) as e:
        con.config("MODEL_CHUNK_SIZE", "not-a-number")
    assert str(e.value) == ERR_INVALID_CHUNK
    assert con.config("non-existing") is None
    assert con.config("MODEL_CHUNK_SIZE") == DEFAULT_CHUNK_SIZE


def test_loadbackend_errors(con):
    with pytest.raises(ResponseError) as e:
        con.loadbackend("TORCH", "notexist/redisai_torch.so")
    assert str(e.value) == ERR_LOADING_BACKEND
    with pytest.raises(ResponseError) as e:
        con.loadbackend("ONNX", "/nonexistent/redisai_onnxruntime.so")
    assert str(e.value) == ERR_LOADING_BACKEND
    with pytest.raises(ResponseError) as e:
        con.loadbackend("PORCH", "x.so")
    assert str(e.value) == "unsupported backend"


def test_modelexecute_linear_iris(con):
    iris = _fixture("linear_iris.onnx")
    con.modelstore("iris", "onnx", "cpu", iris)
    con.tensorset("features", np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32))
    assert con.modelexecute("iris", inputs="features", outputs="out") == "OK"  # non-list in/out
    out = con.tensorget("out")
    assert out.dtype == np.float32 and out.shape == (1, 1)
    assert out[0, 0] == np.float32(-0.090524077415466309)
    vals = con.tensorget("out", as_numpy=False)
    assert vals == {"dtype": "FLOAT", "shape": [1, 1], "values": [float(np.float32(-0.090524077415466309))]}
    # VALUES input, TIMEOUT
    con.tensorset("features", [5.1, 3.5, 1.4, 0.2], shape=(1, 4), dtype="float32")
    assert con.modelexecute("iris", ["features"], ["out2"], timeout=5000) == "OK"
    assert np.array_equal(con.tensorget("out2"), out)


def test_modelexecute_mnist(con):
    mnist = _fixture("mnist.onnx")
    img = _png_gray8(_fixture("one.png"))
    assert img.shape == (28, 28)
    con.modelstore("mnist", "onnx", "cpu", mnist)
    for scale in (1.0, 255.0):
        x = (img.astype(np.float32) / np.float32(scale)).reshape(1, 1, 28, 28)
        con.tensorset("img", x)
        assert con.modelexecute("mnist", ["img"], ["scores"]) == "OK"
        scores = con.tensorget("scores")
        assert scores.dtype == np.float32 and scores.shape == (1, 10)
        assert int(np.argmax(scores)) == 1


def test_modelexecute_tf_and_nonascii(con):
    # redisai-py's test_run_tf_model / test_nonasciichar
    nonascii = "ĉ"
    con.modelstore("m" + nonascii, "tf", "cpu", _fixture("graph.pb"), inputs=["a", "b"], outputs=["mul"])
    con.tensorset("a" + nonascii, (2, 3), dtype="float")
    con.tensorset("b", (2, 3), dtype="float")
    assert con.modelexecute("m" + nonascii, ["a" + nonascii, "b"], ["c" + nonascii]) == "OK"
    assert np.array_equal(con.tensorget("c" + nonascii), np.array([4.0, 9.0], dtype=np.float32))
    with pytest.warns(UserWarning):
        assert con.modelscan() == [["m" + nonascii, ""]]


def test_modelexecute_torch(con):
    con.modelstore("pt_model", "torch", "cpu", _two_inputs_pt())
    con.tensorset("a", [1, 2, 3, 4], shape=(2, 2), dtype="float")
    con.tensorset("b", [0.5, -0.5, 10, 0], shape=(2, 2), dtype="float")
    assert con.modelexecute("pt_model", ["a", "b"], ["output"]) == "OK"
    assert con.tensorget("output", as_numpy=False) == {"dtype": "FLOAT", "shape": [2, 2], "values": [2.0, 1.0, 23.0, 4.0]}


def test_modelexecute_errors(con):
    con.modelstore("iris", "onnx", "cpu", _fixture("linear_iris.onnx"))
    with pytest.raises(ResponseError) as e:
        con.modelexecute("iris", ["missing"], ["out"])
    assert str(e.value) == ERR_TENSOR_EMPTY
    con.tensorset("f", np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ResponseError) as e:
        con.modelexecute("nope", ["f"], ["out"])
    assert str(e.value) == ERR_MODEL_EMPTY
    with pytest.raises(ResponseError):
        con.modelexecute("iris", ["f", "f"], ["out"])  # input count
    with pytest.raises(ValueError):
        con.modelexecute("iris", inputs=None, outputs=None)
    assert con.exists("out") == 0


def test_deprecated_modelset_modelrun(con):
    pb = _fixture("graph.pb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert con.modelset("m", "tf", "cpu", pb, inputs=["a", "b"], outputs=["mul"], tag="v1.0") == "OK"
        assert con.modelget("m", meta_only=True) == {
            "backend": "TF", "device": "cpu", "tag": "v1.0", "batchsize": 0, "minbatchsize": 0,
            "inputs": ["a", "b"], "outputs": ["mul"], "minbatchtimeout": 0}
        con.tensorset("a", (2, 3), dtype="float")
        con.tensorset("b", (2, 3), dtype="float")
        assert con.modelrun("m", ["a", "b"], ["c"]) == "OK"
    assert np.array_equal(con.tensorget("c"), [4.0, 9.0])


def test_modeldel(con):
    _store_graph(con)
    assert con.modeldel("m") == "OK"
    assert con.exists("m") == 0
    with pytest.raises(ResponseError) as e:
        con.modelget("m")
    assert str(e.value) == ERR_MODEL_EMPTY
    with pytest.raises(ResponseError) as e:
        con.modeldel("m")
    assert str(e.value) == ERR_MODEL_EMPTY
    con.tensorset("t", [1], dtype="float")
    with pytest.raises(ResponseError) as e:
        con.modeldel("t")
    assert str(e.value) == ERR_WRONGTYPE


def test_modelscan(con):
    _store_graph(con, "m", tag="v1.2")
    con.modelstore("pt_model", "torch", "cpu", _two_inputs_pt())
    con.modelstore("iris", "onnx", "cpu", _fixture("linear_iris.onnx"), tag="x")
    with pytest.warns(UserWarning, match="Experimental"):
        mlist = con.modelscan()
    # [[key, tag], ...] of str; RedisAI lists them in its dictionary's order, so compare sorted
    assert all(isinstance(k, str) and isinstance(t, str) for k, t in mlist)
    assert sorted(mlist) == [["iris", "x"], ["m", "v1.2"], ["pt_model", ""]]
    con.modeldel("iris")
    with pytest.warns(UserWarning):
        assert sorted(con.modelscan()) == [["m", "v1.2"], ["pt_model", ""]]


# ---------------------------------------------------------------- AI.INFO


def test_infoget_inforeset_model(con):
    # redisai-py's test_info, exactly
    _store_graph(con)
    first_info = con.infoget("m")
    expected = {
        "key": "m",
        "type": "MODEL",
        "backend": "TF",
        "device": "cpu",
        "tag": "",
        "duration": 0,
        "samples": 0,
        "calls": 0,
        "errors": 0,
    }
    assert first_info == expected
    assert list(first_info) == list(expected)
    con.tensorset("a", (2, 3), dtype="float")
    con.tensorset("b", (2, 3), dtype="float")
    con.modelexecute("m", ["a", "b"], ["c"])
    con.modelexecute("m", ["a", "b"], ["c"])
    second_info = con.infoget("m")
    assert second_info["calls"] == 2
    assert second_info["samples"] == 4  # batch dimension 2, twice
    assert second_info["errors"] == 0
    assert isinstance(second_info["duration"], int) and second_info["duration"] > 0
    assert con.inforeset("m") == "OK"
    assert con.infoget("m") == first_info


def test_infoget_onnx_errors_and_script(con):
    con.modelstore("iris", "onnx", "CPU", _fixture("linear_iris.onnx"), tag="t")
    assert con.infoget("iris") == {"key": "iris", "type": "MODEL", "backend": "ONNX", "device": "CPU", "tag": "t",
                                   "duration": 0, "samples": 0, "calls": 0, "errors": 0}
    con.tensorset("bad", np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ResponseError):
        con.modelexecute("iris", "bad", "o")
    info = con.infoget("iris")
    assert info["errors"] == 1

    con.scriptstore("s", "cpu", SCRIPT, ["bar"], tag="v")
    assert con.infoget("s") == {"key": "s", "type": "SCRIPT", "backend": "TORCH", "device": "cpu", "tag": "v",
                                "duration": 0, "samples": -1, "calls": 0, "errors": 0}
    with pytest.raises(ResponseError):
        con.infoget("nope")


# ---------------------------------------------------------------- scripts


def test_scriptstore_scriptget(con):
    assert con.scriptstore("myscript", "cpu", SCRIPT, ["bar", "bar_variadic", "scale_shift"], "version1") == "OK"
    full = con.scriptget("myscript")
    # RedisAI's "Entry Points" label, lower-cased by list2dict; its array is left as bytes
    assert full == {
        "device": "cpu",
        "tag": "version1",
        "entry points": [b"bar", b"bar_variadic", b"scale_shift"],
        "source": SCRIPT,
    }
    assert list(full) == ["device", "tag", "entry points", "source"]
    meta = con.scriptget("myscript", meta_only=True)
    assert meta == {"device": "cpu", "tag": "version1", "entry points": [b"bar", b"bar_variadic", b"scale_shift"]}

    # a single entry point as a string, no tag, device echoed as given
    assert con.scriptstore("one", "CPU", SCRIPT, "bar") == "OK"
    assert con.scriptget("one") == {"device": "CPU", "tag": "", "entry points": [b"bar"], "source": SCRIPT}


def test_scriptstore_errors(con):
    with pytest.raises(ValueError):
        con.scriptstore("test", "cpu", SCRIPT, entry_points=None)
    with pytest.raises(ResponseError):
        con.scriptstore("test", "cpu", SCRIPT, "nope")  # not a function of the script
    with pytest.raises(ResponseError) as e:
        con.scriptstore("test", "cpu", "return 1", "f")
    assert str(e.value).startswith("expected def but found 'return' here:")
    assert "\n" not in str(e.value)
    assert con.exists("test") == 0


def test_scriptstore_compile_error_exact(con):
    # redisai-py's test_scriptstore compares libtorch's text exactly
    with pytest.raises(ResponseError) as e:
        con.scriptstore("test", "cpu", "return 1", "f")
    assert str(e.value) == "expected def but found 'return' here:   File \"<string>\", line 1 return 1 ~~~~~~ <--- HERE "


def test_scriptexecute(con):
    # redisai-py's test_scripts_execute
    with pytest.raises(ResponseError) as e:
        con.scriptexecute("test", "bar", inputs=["a"], outputs=["c"])
    assert str(e.value) == ERR_SCRIPT_EMPTY

    con.scriptstore("test", "cpu", SCRIPT, "bar")
    con.tensorset("a", (2, 3), dtype="float")
    con.tensorset("b", (2, 3), dtype="float")
    assert con.scriptexecute("test", "bar", inputs=["a", "b"], outputs=["c"]) == "OK"
    assert con.tensorget("c", as_numpy=False)["values"] == [4, 6]

    con.scriptstore("myscript{1}", "cpu", SCRIPT, ["bar", "bar_variadic", "scale_shift"], "version1")
    con.tensorset("a{1}", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    con.tensorset("b{1}", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    con.tensorset("b1{1}", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    con.scriptexecute("myscript{1}", "bar", inputs=["a{1}", "b{1}"], outputs=["c{1}"])
    assert con.tensorget("c{1}", as_numpy=False)["values"] == [4.0, 6.0, 4.0, 6.0]
    con.scriptexecute("myscript{1}", "bar_variadic", inputs=["a{1}", "b1{1}", "b{1}"], outputs=["c{1}"])
    assert con.tensorget("c{1}", as_numpy=False)["values"] == [4.0, 6.0, 4.0, 6.0]

    # KEYS, INPUTS, ARGS and two OUTPUTS (a tuple return)
    assert con.scriptexecute("myscript{1}", "scale_shift", keys="{1}", inputs=["a{1}"], args=["3", "0.5"],
                             outputs=["o1{1}", "o2{1}"], timeout=5000) == "OK"
    assert con.tensorget("o1{1}").tolist() == [[6.0, 9.0], [6.0, 9.0]]
    assert con.tensorget("o2{1}").tolist() == [[2.5, 3.5], [2.5, 3.5]]
    info = con.infoget("myscript{1}")
    assert info["calls"] == 3 and info["samples"] == -1 and info["type"] == "SCRIPT"


def test_scriptexecute_errors(con):
    con.scriptstore("s", "cpu", SCRIPT, ["bar", "scale_shift"])
    con.tensorset("a", [1, 2], dtype="float")
    with pytest.raises(ResponseError) as e:
        con.scriptexecute("s", "bar", inputs=["a", "missing"], outputs=["c"])
    assert str(e.value) == ERR_TENSOR_EMPTY
    with pytest.raises(ResponseError):
        con.scriptexecute("s", "nofunc", inputs=["a", "a"], outputs=["c"])
    with pytest.raises(ResponseError):
        con.scriptexecute("s", "scale_shift", inputs=["a"], args=["x", "1"], outputs=["o1", "o2"])  # float('x')
    with pytest.raises(ValueError):
        con.scriptexecute("s", function=None, keys=None, inputs=None)
    assert con.exists("c") == 0
    assert con.infoget("s")["errors"] == 2


def test_scriptexecute_redis_commands(con):
    # redisai-py's test_scripts_redis_commands: redis.execute from inside TorchScript
    con.scriptstore("myscript{1}", "cpu", SCRIPT_WITH_REDIS_COMMANDS, ["int_set_get", "func"])
    con.scriptexecute("myscript{1}", "int_set_get", keys=["x{1}", "{1}"], args=["3"], outputs=["y{1}"])
    assert np.allclose(con.tensorget("y{1}", as_numpy=False)["values"], [3])
    assert con.get("x{1}") == b"3"

    con.tensorset("mytensor1{1}", [40], dtype="float")
    con.tensorset("mytensor2{1}", [10], dtype="float")
    con.tensorset("mytensor3{1}", [1], dtype="float")
    con.scriptexecute("myscript{1}", "func", keys=["key{1}"],
                      inputs=["mytensor1{1}", "mytensor2{1}", "mytensor3{1}"], args=["3"], outputs=["my_output{1}"])
    assert np.allclose(con.tensorget("my_output{1}", as_numpy=False)["values"], [54])
    assert con.get("key{1}") is None


def test_deprecated_scriptset_scriptrun(con):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ResponseError):
            con.scriptset("scr", "cpu", "return 1")
        assert con.scriptset("scr", "cpu", SCRIPT_OLD, tag="old") == "OK"
        con.tensorset("a", (2, 3), dtype="float")
        con.tensorset("b", (2, 3), dtype="float")
        assert con.scriptrun("scr", "bar", inputs=["a", "b"], outputs=["c"]) == "OK"
        assert con.tensorget("c", as_numpy=False)["values"] == [4, 6]
        assert con.scriptrun("scr", "bar_variadic", inputs=["a", "$", "b", "b"], outputs=["c"]) == "OK"
        assert con.tensorget("c", as_numpy=False)["values"] == [4, 6]
        with pytest.raises(ResponseError):
            con.scriptrun("scr", "bar", inputs=["a"], outputs=["c"])
    assert con.scriptget("scr") == {"device": "cpu", "tag": "old", "entry points": [], "source": SCRIPT_OLD}


def test_scriptdel(con):
    con.scriptstore("test", "cpu", SCRIPT, "bar")
    assert con.scriptdel("test") == "OK"
    assert con.exists("test") == 0
    with pytest.raises(ResponseError) as e:
        con.scriptget("test")
    assert str(e.value) == ERR_SCRIPT_EMPTY
    with pytest.raises(ResponseError) as e:
        con.scriptdel("test")
    assert str(e.value) == ERR_SCRIPT_EMPTY
    con.set("NOT_SCRIPT", "BAR")
    with pytest.raises(ResponseError) as e:
        con.scriptdel("NOT_SCRIPT")
    assert str(e.value) == ERR_WRONGTYPE
    with pytest.raises(ResponseError) as e:
        con.scriptget("NOT_SCRIPT")
    assert str(e.value) == ERR_WRONGTYPE


def test_redisai_py_model_scan_order(con):
    # redisai-py's test_model_scan, exactly
    _store_graph(con, "m", tag="v1.2")
    con.modelstore("pt_model", "torch", "cpu", _two_inputs_pt())
    with pytest.warns(UserWarning):
        assert con.modelscan() == [["pt_model", ""], ["m", "v1.2"]]


def test_redisai_py_script_scan_order(con):
    # redisai-py's test_script_scan, exactly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        con.scriptset("ket1", "cpu", SCRIPT, tag="v1.0")
        con.scriptset("ket2", "cpu", SCRIPT)
    with pytest.warns(UserWarning):
        assert con.scriptscan() == [["ket1", "v1.0"], ["ket2", ""]]


def test_scriptscan(con):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        con.scriptset("ket1", "cpu", SCRIPT, tag="v1.0")
        con.scriptset("ket2", "cpu", SCRIPT)
    con.scriptstore("ket3", "cpu", SCRIPT, "bar", tag="t3")
    _store_graph(con)  # models are not listed
    with pytest.warns(UserWarning, match="Experimental"):
        slist = con.scriptscan()
    assert sorted(slist) == [["ket1", "v1.0"], ["ket2", ""], ["ket3", "t3"]]
    con.scriptdel("ket2")
    with pytest.warns(UserWarning):
        assert sorted(con.scriptscan()) == [["ket1", "v1.0"], ["ket3", "t3"]]


# ---------------------------------------------------------------- DAGs


def _iris_input():
    return np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)


IRIS_OUT = np.float32(-0.090524077415466309)


def test_dag_load_persist_routing(con):
    con.modelstore("iris", "onnx", "cpu", _fixture("linear_iris.onnx"))
    con.tensorset("feat", _iris_input())
    dag = con.dag(load="feat", persist="out", routing="feat")  # AI.DAGEXECUTE LOAD 1 … PERSIST 1 … ROUTING …
    res = (dag.tensorset("tmp", [1, 2], dtype="float")
              .modelexecute("iris", "feat", "out")
              .tensorget("out")
              .tensorget("tmp", as_numpy=False)
              .execute())
    assert res[:2] == ["OK", "OK"]
    assert isinstance(res[2], np.ndarray) and res[2].shape == (1, 1) and res[2][0, 0] == IRIS_OUT
    assert res[3] == {"dtype": "FLOAT", "shape": [2], "values": [1.0, 2.0]}
    assert len(res) == 4
    assert con.tensorget("out")[0, 0] == IRIS_OUT  # persisted
    assert con.exists("tmp") == 0  # not persisted


def test_dag_chain_in_dag_tensors(con):
    # redisai-py's test_dagexecute_calling_on_return / without_load_and_persist, with two_inputs.pt
    con.modelstore("pt_model", "torch", "cpu", _two_inputs_pt(), tag="v7.0")
    con.tensorset("a", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    result = (con.dag(load="a")
              .tensorset("b", [2, 3, 2, 3], shape=(2, 2), dtype="float")
              .modelexecute("pt_model", ["a", "b"], ["output"])
              .tensorget("output")
              .execute())
    want = np.array([[6.0, 9.0], [6.0, 9.0]], dtype=np.float32)
    assert result[:2] == ["OK", "OK"] and np.array_equal(result[2], want)
    with pytest.raises(ResponseError):
        con.tensorget("b")

    dag = con.dag(persist="output")
    dag.tensorset("a", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    dag.tensorset("b", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    dag.modelexecute("pt_model", ["a", "b"], ["output"])
    dag.tensorget("output")
    result = dag.execute()
    assert result[:3] == ["OK", "OK", "OK"] and np.array_equal(result[3], want)
    assert np.array_equal(con.tensorget("output"), want)

    # the same Dag object runs again
    con.tensorset("b", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    dag = con.dag(load=["a", "b"], persist="output2")
    dag.modelexecute("pt_model", ["a", "b"], ["output2"]).tensorget("output2")
    first = dag.execute()
    second = dag.execute()
    assert first[0] == "OK" and second[0] == "OK"
    assert np.array_equal(first[1], want) and np.array_equal(second[1], want)


def test_dag_with_scriptexecute(con):
    con.modelstore("iris", "onnx", "cpu", _fixture("linear_iris.onnx"))
    con.scriptstore("s", "cpu", SCRIPT, ["bar", "scale_shift"])
    dag = con.dag(persist=["sum", "scaled"], routing="sum")
    dag.tensorset("x", [1, 2, 3, 4], shape=(1, 4), dtype="float")
    dag.scriptexecute("s", "bar", inputs=["x", "x"], outputs="sum")
    dag.scriptexecute("s", "scale_shift", inputs="sum", args=["0.5", "0"], outputs=["scaled", "shifted"])
    dag.modelexecute("iris", "scaled", "pred")
    dag.tensorget("pred", as_numpy=False)
    res = dag.execute()
    assert res[:4] == ["OK", "OK", "OK", "OK"]
    assert res[4]["dtype"] == "FLOAT" and res[4]["shape"] == [1, 1]
    assert con.tensorget("sum").tolist() == [[2.0, 4.0, 6.0, 8.0]]
    assert con.tensorget("scaled").tolist() == [[1.0, 2.0, 3.0, 4.0]]
    assert con.exists("shifted") == 0 and con.exists("pred") == 0


def test_dag_readonly(con):
    con.modelstore("iris", "onnx", "cpu", _fixture("linear_iris.onnx"))
    con.tensorset("feat", _iris_input())
    with pytest.raises(RuntimeError):
        con.dag(load="feat", persist="out", readonly=True)
    dag = con.dag(load=["feat"], readonly=True)  # AI.DAGEXECUTE_RO
    with pytest.raises(RuntimeError):
        dag.scriptexecute("s", "bar", inputs=["feat", "feat"], outputs=["c"])
    dag.modelexecute("iris", ["feat"], ["out"])
    dag.tensorget("out")
    res = dag.execute()
    assert res[0] == "OK" and res[1][0, 0] == IRIS_OUT
    assert con.exists("out") == 0
    # a routing-only read-only DAG
    res = con.dag(routing="feat", readonly=True).tensorset("t", [7], dtype="int32").tensorget("t", as_numpy=False).execute()
    assert res == ["OK", {"dtype": "INT32", "shape": [1], "values": [7]}]


def test_dag_errors(con):
    # redisai-py's test_dagexecute_without_load_and_persist / with_persist
    dag = con.dag(load="wrongkey")
    with pytest.raises(ResponseError) as e:
        dag.tensorget("wrongkey").execute()
    assert str(e.value) == ERR_TENSOR_EMPTY
    with pytest.raises(ResponseError):
        con.dag(persist="wrongkey").tensorset("a", [2, 3, 2, 3], shape=(2, 2), dtype="float").execute()
    assert con.exists("wrongkey") == 0 and con.exists("a") == 0

    dag = con.dag(persist=["b"])
    dag.tensorset("a", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    dag.tensorset("b", [2, 3, 2, 3], shape=(2, 2), dtype="float")
    dag.tensorget("b")
    result = dag.execute()
    b = con.tensorget("b")
    assert b.dtype == np.float32 and np.array_equal(b, result[-1])
    assert len(result) == 3


def test_deprecated_dagrun(con):
    # con.dag() with no LOAD/PERSIST/ROUTING sends AI.DAGRUN with AI.MODELRUN ops
    con.modelstore("pt_model", "torch", "cpu", _two_inputs_pt())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dag = con.dag()
        with pytest.raises(RuntimeError):
            dag.modelexecute("pt_model", ["a", "b"], ["output"])
        dag.tensorset("a", [2, 3, 2, 3], shape=(2, 2), dtype="float")
        dag.tensorset("b", [2, 3, 2, 3], shape=(2, 2), dtype="float")
        dag.modelrun("pt_model", ["a", "b"], ["output"])
        dag.tensorget("output")
        result = dag.run()
    assert result[:3] == ["OK", "OK", "OK"]
    assert np.array_equal(result[3], np.array([[6.0, 9.0], [6.0, 9.0]], dtype=np.float32))
    assert con.exists("output") == 0
