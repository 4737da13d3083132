"""SmartRedis 0.6.1 with TorchScript scripts, the way SmartRedis's own tests
(test_script_methods.py) and SmartSim's backends tests use them:

* set_function sends inspect.getsource(fn) as AI.SCRIPTSET key CPU SOURCE src;
  for a function defined inside a test function that text is indented;
* set_script / set_script_from_file send a string / a file's text the same way;
* run_script sends the deprecated AI.SCRIPTRUN key fn INPUTS ... OUTPUTS ...,
  calling the function with the tensors as positional arguments;
* get_script sends AI.SCRIPTGET key SOURCE and must get the text back as sent.

The functions only run in the server's libtorch, so the test process needs
neither torch nor TorchScript. The server fixture is in conftest.py.
"""

import inspect

import numpy as np
import pytest

# A script with several functions, as set_script users write them (Debian's
# python3-torch and RedisAI both want the final newline).
SCRIPT = """\
def add_three(a, b, c):
    return a + b + c

def sum_all(first, rest: List[Tensor]):
    s = first
    for t in rest:
        s = s + t
    return s

def shape_of(a):
    return torch.tensor(a.shape)
"""


def test_set_function_nested_one_to_one(client):
    def one_to_one(data):
        # doubled; inspect.getsource keeps this comment and the indentation
        return data * 2

    src = inspect.getsource(one_to_one)
    assert src.startswith("    def one_to_one(data):\n")
    client.set_function("one_to_one", one_to_one)
    assert client.model_exists("one_to_one")
    assert client.get_script("one_to_one") == src

    x = np.array([[1.5, -2.0], [3.25, 0.0]], dtype=np.float32)
    client.put_tensor("oto_in", x)
    client.run_script("one_to_one", "one_to_one", ["oto_in"], ["oto_out"])
    out = client.get_tensor("oto_out")
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, x * 2)
    # a single name instead of a list, and other dtypes
    xi = np.arange(6, dtype=np.int64).reshape(3, 2)
    client.put_tensor("oto_in_i", xi)
    client.run_script("one_to_one", "one_to_one", "oto_in_i", "oto_out_i")
    out = client.get_tensor("oto_out_i")
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, xi * 2)
    xd = np.linspace(-1, 1, 7, dtype=np.float64)
    client.put_tensor("oto_in_d", xd)
    client.run_script("one_to_one", "one_to_one", "oto_in_d", "oto_out_d")
    np.testing.assert_array_equal(client.get_tensor("oto_out_d"), xd * 2)


def test_set_function_two_to_one(client):
    def two_to_one(a, b):
        return a + b

    client.set_function("two_to_one", two_to_one, device="CPU")
    assert client.get_script("two_to_one") == inspect.getsource(two_to_one)
    a = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    client.put_tensor("tto_a", a)
    client.put_tensor("tto_b", b)
    client.run_script("two_to_one", "two_to_one", ["tto_a", "tto_b"], ["tto_out"])
    np.testing.assert_allclose(client.get_tensor("tto_out"), a + b, rtol=1e-6)
    # broadcasting follows torch
    client.put_tensor("tto_row", np.array([10, 20, 30], dtype=np.float32))
    client.run_script("two_to_one", "two_to_one", ["tto_a", "tto_row"], ["tto_bc"])
    np.testing.assert_allclose(client.get_tensor("tto_bc"), a + np.array([10, 20, 30], dtype=np.float32), rtol=1e-6)


def test_set_function_svd_three_outputs(client):
    def svd_fn(a):
        return torch.svd(a)  # noqa: F821 (runs in the server's libtorch)

    client.set_function("svd_fn", svd_fn)
    A = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)
    client.put_tensor("svd_in", A)
    client.run_script("svd_fn", "svd_fn", ["svd_in"], ["svd_U", "svd_S", "svd_V"])
    U, S, V = (client.get_tensor(k) for k in ("svd_U", "svd_S", "svd_V"))
    assert U.shape == (5, 3) and S.shape == (3,) and V.shape == (3, 3)
    assert U.dtype == S.dtype == V.dtype == np.float32

    # torch.svd returns V (not V^T): A = U diag(S) V^T
    np.testing.assert_allclose(U @ np.diag(S) @ V.T, A, atol=1e-5)
    nU, nS, nVt = np.linalg.svd(A.astype(np.float64), full_matrices=False)
    np.testing.assert_allclose(S, nS, rtol=1e-5)
    # the singular vectors agree with numpy's up to the sign of each pair
    for i in range(3):
        sign = np.sign(np.dot(U[:, i], nU[:, i]))
        assert sign != 0
        np.testing.assert_allclose(U[:, i] * sign, nU[:, i], atol=1e-5)
        np.testing.assert_allclose(V[:, i] * sign, nVt[i, :], atol=1e-5)


def test_set_script_and_from_file(client, tmp_path):
    client.set_script("str_script", SCRIPT, device="CPU")
    assert client.get_script("str_script") == SCRIPT

    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    client.set_script_from_file("file_script", str(path), device="CPU")
    assert client.get_script("file_script") == SCRIPT

    xs = [np.full((2, 2), v, dtype=np.float32) for v in (1.0, 2.0, 4.0)]
    for i, x in enumerate(xs):
        client.put_tensor(f"ss_{i}", x)
    names = [f"ss_{i}" for i in range(3)]
    for key in ("str_script", "file_script"):
        client.run_script(key, "add_three", names, [f"{key}_sum"])
        np.testing.assert_array_equal(client.get_tensor(f"{key}_sum"), np.full((2, 2), 7.0, dtype=np.float32))
        # a trailing List[Tensor] takes the remaining inputs
        client.run_script(key, "sum_all", names + ["ss_2"], [f"{key}_all"])
        np.testing.assert_array_equal(client.get_tensor(f"{key}_all"), np.full((2, 2), 11.0, dtype=np.float32))
    client.put_tensor("ss_shape", np.zeros((3, 5, 7), dtype=np.uint8))
    client.run_script("str_script", "shape_of", "ss_shape", "ss_shape_out")
    np.testing.assert_array_equal(client.get_tensor("ss_shape_out"), np.array([3, 5, 7], dtype=np.int64))

    # overwriting replaces the source
    client.set_script("str_script", "def add_three(a, b, c):\n    return a * b * c\n")
    client.run_script("str_script", "add_three", names, ["str_script_prod"])
    np.testing.assert_array_equal(client.get_tensor("str_script_prod"), np.full((2, 2), 8.0, dtype=np.float32))
    assert client.get_script("str_script") == "def add_three(a, b, c):\n    return a * b * c\n"


def test_delete_script(client):
    from smartredis.error import RedisReplyError

    def to_delete(x):
        return x + 1

    client.set_function("to_delete", to_delete)
    assert client.model_exists("to_delete")
    client.delete_script("to_delete")
    assert not client.model_exists("to_delete")
    with pytest.raises(RedisReplyError):
        client.get_script("to_delete")
    client.put_tensor("del_in", np.ones(2, dtype=np.float32))
    with pytest.raises(RedisReplyError):
        client.run_script("to_delete", "to_delete", "del_in", "del_out")
    assert not client.tensor_exists("del_out")
    with pytest.raises(RedisReplyError):
        client.delete_script("to_delete")


def test_run_script_errors(client):
    from smartredis.error import RedisReplyError

    def err_fn(a, b):
        return a + b

    client.set_function("err_script", err_fn)
    client.put_tensor("err_a", np.ones((2, 2), dtype=np.float32))
    client.put_tensor("err_b", np.ones((3, 3), dtype=np.float32))
    # an unknown function
    with pytest.raises(RedisReplyError):
        client.run_script("err_script", "no_such_function", ["err_a", "err_a"], ["err_out"])
    # too few inputs for the function
    with pytest.raises(RedisReplyError):
        client.run_script("err_script", "err_fn", ["err_a"], ["err_out"])
    # a missing input tensor
    with pytest.raises(RedisReplyError):
        client.run_script("err_script", "err_fn", ["err_a", "no_such_tensor"], ["err_out"])
    # torch raises (shapes do not broadcast)
    with pytest.raises(RedisReplyError):
        client.run_script("err_script", "err_fn", ["err_a", "err_b"], ["err_out"])
    # more outputs than the function returns
    with pytest.raises(RedisReplyError):
        client.run_script("err_script", "err_fn", ["err_a", "err_a"], ["err_out", "err_out2"])
    # a source that does not compile
    with pytest.raises(RedisReplyError):
        client.set_script("bad_script", "def broken(a):\n    return a +\n")
    assert not client.model_exists("bad_script")
    assert not client.tensor_exists("err_out")
    # the script still works
    client.run_script("err_script", "err_fn", ["err_a", "err_a"], ["err_out"])
    np.testing.assert_array_equal(client.get_tensor("err_out"), np.full((2, 2), 2.0, dtype=np.float32))


def test_get_ai_info_script(client, server):
    from smartredis.error import RedisReplyError

    address = [f"127.0.0.1:{server.port}"]

    def info_fn(a):
        return a * 3

    client.set_function("info_script", info_fn)
    client.put_tensor("info_in", np.ones((4, 2), dtype=np.float32))
    for _ in range(3):
        client.run_script("info_script", "info_fn", "info_in", "info_out")
    with pytest.raises(RedisReplyError):
        client.run_script("info_script", "nope", "info_in", "info_out")
    (info,) = client.get_ai_info(address, "info_script")
    assert info["key"] == "info_script"
    assert info["type"] == "SCRIPT"
    assert info["backend"] == "TORCH"
    assert info["device"] == "CPU"
    assert info["tag"] == ""
    assert int(info["samples"]) == -1
    assert int(info["calls"]) == 4
    assert int(info["errors"]) == 1
    assert int(info["duration"]) > 0
    with pytest.raises(RedisReplyError):
        client.get_ai_info(address, "no_such_script")
