"""SmartRedis 0.6.1 against a 3-node Redis Cluster of redis-server processes
with the gorai module loaded (clients.md §3): SR_DB_TYPE=Clustered (SmartRedis'
default) and SSDB pointing at one node.

What SmartRedis does in a cluster, and what is checked here:

* tensors are plain keys routed by redis-plus-plus (keys chosen to land on all
  three shards; checked on the nodes themselves);
* set_model / set_function / delete_* are sent once per shard with the key
  rewritten to "{prefix}.name" (prefixes "\\x00\\x00", "8M", "\\xed\\xeb" for the
  default 0/5461/10923 slot layout, so binary keys reach the module);
* run_model / run_script copy the inputs to "{p}.in.TMP" on the shard of the
  first input, run AI.MODELEXECUTE / AI.SCRIPTRUN there, copy the outputs back
  and DEL the .TMP keys;
* model_exists looks at "{p0}.name"; get_ai_info(address, key) at the prefix
  of that address (which must match CLUSTER SLOTS' "ip:port").

The cluster is built with `redis-cli --cluster create` (skipped, loudly, only
when redis-cli is missing) and every server is stopped and its temp dir
removed at the end of the module.
"""

import inspect
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent.parent
MODELS = Path(__file__).resolve().parent / "models"

# SmartRedis' shard prefixes for the slot ranges redis-cli makes for 3 masters.
PREFIXES = [b"\x00\x00", b"8M", b"\xed\xeb"]
SLOT_STARTS = [0, 5461, 10923]


def _crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _slot(key: bytes) -> int:
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1 : e]
    return _crc16(key) % 16384


def _shard_of_slot(slot):
    return sum(1 for start in SLOT_STARTS if slot >= start) - 1


def _module_path():
    p = os.environ.get("GORAI_MODULE")
    return str(Path(p).resolve()) if p else str(REPO / "build" / "gorai.so")


def _free_port():
    # cluster bus port is port+10000: keep both below 65536
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            return port


class _Cluster:
    def __init__(self, n=3):
        self.procs = []
        self.ports = []
        self.dirs = []
        self.logs = []
        try:
            self._create(n)
        except BaseException:
            self.cleanup()  # no node outlives a failed start
            raise

    def _create(self, n):
        module = _module_path()
        if not os.path.exists(module):
            raise RuntimeError(f"module not found at {module} (run `make build`, or set GORAI_MODULE)")
        server = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "redis-server"
        for _ in range(n):
            self._start_node(server, module)
        addrs = [f"127.0.0.1:{p}" for p in self.ports]
        r = subprocess.run(
            [self.cli, "--cluster", "create", *addrs, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=60,
        )
        if r.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{r.stdout}\n{r.stderr}\n" + self.log())
        deadline = time.time() + 30
        while time.time() < deadline:
            if all("cluster_state:ok" in self._cli(p, "CLUSTER", "INFO") for p in self.ports):
                return
            time.sleep(0.1)
        raise RuntimeError("cluster_state did not become ok:\n" + self.log())

    cli = shutil.which("redis-cli") or "redis-cli"

    def _cli(self, port, *args):
        r = subprocess.run([self.cli, "-h", "127.0.0.1", "-p", str(port), *args],
                           capture_output=True, text=True, timeout=10)
        return r.stdout

    def _start_node(self, server, module):
        d = tempfile.mkdtemp(prefix="gorai-pytest-cluster-")
        self.dirs.append(d)
        log_path = os.path.join(d, "server.log")
        for _attempt in range(5):
            port = _free_port()
            conf = os.path.join(d, "redis.conf")
            with open(conf, "w") as f:
                f.write(
                    f"port {port}\nbind 127.0.0.1\ndir {d}\ndaemonize no\n"
                    f'logfile ""\nsave ""\nappendonly no\nprotected-mode no\n'
                    f"cluster-enabled yes\ncluster-config-file nodes.conf\n"
                    f"cluster-node-timeout 5000\nloadmodule {module}\n"
                )
            with open(log_path, "ab") as log:
                proc = subprocess.Popen([server, conf], stdout=log, stderr=log, cwd=d)
            self.procs.append(proc)
            deadline = time.time() + 30
            while time.time() < deadline and proc.poll() is None:
                if "PONG" in self._cli(port, "PING"):
                    self.ports.append(port)
                    self.logs.append(log_path)
                    return
                time.sleep(0.05)
            self._stop(proc)
            with open(log_path, errors="replace") as f:
                text = f.read()
            if "Address already in use" not in text:
                raise RuntimeError("redis-server (cluster node) did not start:\n" + text)
        raise RuntimeError("no free port for a cluster node")

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def alive(self):
        return all(p.poll() is None for p in self.procs)

    def log(self):
        out = []
        for path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    out.append(f"--- {path}\n" + f.read()[-20000:])
            except OSError:
                pass
        return "\n".join(out)

    def cleanup(self):
        for p in self.procs:
            self._stop(p)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli not found on PATH: cannot build a Redis Cluster (redis-cli --cluster create)")
    saved = {k: os.environ.get(k) for k in ("SR_DB_TYPE", "SSDB")}
    c = None
    try:
        c = _Cluster(3)
        os.environ["SR_DB_TYPE"] = "Clustered"
        os.environ["SSDB"] = f"127.0.0.1:{c.ports[1]}"
        yield c
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if c is not None:
            alive = c.alive()
            logs = c.log()
            c.cleanup()
            assert alive, "a cluster node died during the tests:\n" + logs


@pytest.fixture(scope="module")
def nodes(cluster):
    """redis-py connections to each node, ordered by the slot range it owns."""
    import redis

    conns = {p: redis.Redis(host="127.0.0.1", port=p) for p in cluster.ports}
    order = []
    for start, end, master, *_ in sorted(conns[cluster.ports[0]].execute_command("CLUSTER", "SLOTS")):
        order.append(int(master[1]))
    assert len(order) == 3
    yield [conns[p] for p in order]
    for c in conns.values():
        c.close()


@pytest.fixture(scope="module")
def cclient(cluster):
    from smartredis import Client

    return Client(logger_name="test-cluster")


def _all_keys(nodes):
    return [set(n.keys("*")) for n in nodes]


def _no_tmp_keys(nodes):
    return [k for keys in _all_keys(nodes) for k in keys if k.endswith(b".TMP")]


def test_slot_layout(nodes):
    got = []
    for n in nodes:
        (start, _end, *_rest), = [r for r in n.execute_command("CLUSTER", "SLOTS")
                                  if int(r[2][1]) == n.connection_pool.connection_kwargs["port"]]
        got.append(start)
    assert got == SLOT_STARTS
    for p, start in zip(PREFIXES, SLOT_STARTS):
        assert _slot(p) == start


def test_put_get_tensors_on_all_shards(cclient, nodes):
    keys = [f"t{i}" for i in range(12)]
    shards = {_shard_of_slot(_slot(k.encode())) for k in keys}
    assert shards == {0, 1, 2}, "test keys should span the three shards"
    rng = np.random.default_rng(0)
    arrays = {}
    for i, k in enumerate(keys):
        dtype = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.int16][i % 6]
        a = (rng.random((3, i + 1)) * 100).astype(dtype)
        arrays[k] = a
        cclient.put_tensor(k, a)
    for k, a in arrays.items():
        got = cclient.get_tensor(k)
        assert got.dtype == a.dtype and got.shape == a.shape
        np.testing.assert_array_equal(got, a)
        assert cclient.tensor_exists(k)
        # the key really is on the shard its slot says, and nowhere else
        owner = _shard_of_slot(_slot(k.encode()))
        assert nodes[owner].exists(k) == 1
    cclient.delete_tensor(keys[0])
    assert not cclient.tensor_exists(keys[0])


def test_set_run_model_kmeans(cclient, nodes, cluster):
    X = np.load(MODELS / "kmeans_X.npy")
    # inputs on one shard, outputs on others: run_model copies through .TMP keys
    in_key = next(k for k in (f"km_in{i}" for i in range(100)) if _shard_of_slot(_slot(k.encode())) == 2)
    cclient.put_tensor(in_key, X)
    blob = (MODELS / "kmeans.onnx").read_bytes()
    cclient.set_model("kmeans", blob, "ONNX", device="CPU")
    assert cclient.model_exists("kmeans")
    # stored once per shard under {prefix}.kmeans, on the shard owning that prefix
    for n, p in zip(nodes, PREFIXES):
        key = b"{" + p + b"}.kmeans"
        assert n.exists(key) == 1, f"{key!r} missing on its shard"
    assert cclient.get_model("kmeans") == blob

    outs = ["km_labels", "km_transform"]
    cclient.run_model("kmeans", inputs=in_key, outputs=outs)
    labels = cclient.get_tensor("km_labels")
    assert labels.dtype == np.int64 and labels.shape == (10,)
    assert np.array_equal(labels, np.load(MODELS / "kmeans_labels.npy"))
    transform = cclient.get_tensor("km_transform")
    assert transform.dtype == np.float32 and transform.shape == (10, 2)
    np.testing.assert_allclose(transform, np.load(MODELS / "kmeans_transform.npy"), rtol=0, atol=1e-5)
    assert _no_tmp_keys(nodes) == []

    # get_ai_info through each node's address (the prefix of that shard)
    for port in cluster.ports:
        (info,) = cclient.get_ai_info([f"127.0.0.1:{port}"], "kmeans")
        assert info["type"] == "MODEL"
        assert info["backend"] == "ONNX"
        assert info["device"] == "CPU"
        assert int(info["errors"]) == 0
    # the run happened on the shard of the input (shard 2) only
    calls = {port: int(cclient.get_ai_info([f"127.0.0.1:{port}"], "kmeans")[0]["calls"]) for port in cluster.ports}
    assert sorted(calls.values()) == [0, 0, 1], calls

    cclient.delete_model("kmeans")
    assert not cclient.model_exists("kmeans")
    for n, p in zip(nodes, PREFIXES):
        assert n.exists(b"{" + p + b"}.kmeans") == 0
    from smartredis.error import RedisReplyError

    with pytest.raises(RedisReplyError):
        cclient.run_model("kmeans", inputs=in_key, outputs=outs)
    # SmartRedis does not DEL its .TMP input copy when MODELEXECUTE fails
    leftover = b"{" + PREFIXES[2] + b"}." + in_key.encode() + b".TMP"
    assert nodes[2].delete(leftover) == 1


def test_set_model_mnist_onnx(cclient, nodes):
    path = REPO / "testdata" / "redisai" / "mnist.onnx"
    if not path.exists():
        pytest.fail(f"{path} missing (testdata/redisai is part of the repository)")
    cclient.set_model_from_file("mnist", str(path), "ONNX", device="CPU")
    assert cclient.model_exists("mnist")
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    cclient.put_tensor("mnist_in", x)
    cclient.run_model("mnist", inputs="mnist_in", outputs="mnist_out")
    out = cclient.get_tensor("mnist_out")
    assert out.dtype == np.float32 and out.shape == (1, 10)
    assert np.all(np.isfinite(out))
    assert _no_tmp_keys(nodes) == []
    cclient.delete_model("mnist")
    assert not cclient.model_exists("mnist")


def test_set_function_run_script(cclient, nodes, cluster):
    def add_two(a, b):
        return a + b

    cclient.set_function("add_two", add_two)
    assert cclient.model_exists("add_two")
    assert cclient.get_script("add_two") == inspect.getsource(add_two)
    for n, p in zip(nodes, PREFIXES):
        assert n.exists(b"{" + p + b"}.add_two") == 1

    # inputs on different shards; output on yet another
    names = {}
    for i in range(200):
        k = f"sc{i}"
        names.setdefault(_shard_of_slot(_slot(k.encode())), k)
    a = np.array([[1.5, -2.0], [3.0, 4.25]], dtype=np.float32)
    b = np.array([[10.0, 20.0], [30.0, 40.0]], dtype=np.float32)
    cclient.put_tensor(names[0], a)
    cclient.put_tensor(names[1], b)
    cclient.run_script("add_two", "add_two", [names[0], names[1]], [names[2]])
    out = cclient.get_tensor(names[2])
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, a + b)
    assert _no_tmp_keys(nodes) == []

    (info,) = cclient.get_ai_info([f"127.0.0.1:{cluster.ports[0]}"], "add_two")
    assert info["type"] == "SCRIPT"

    cclient.delete_script("add_two")
    assert not cclient.model_exists("add_two")
    for n, p in zip(nodes, PREFIXES):
        assert n.exists(b"{" + p + b"}.add_two") == 0
