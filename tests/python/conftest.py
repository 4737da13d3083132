"""Shared fixtures for the SmartRedis client tests: a redis-server with the
gorai module loaded (one per test module) and a SmartRedis client on it.

The server is redis-server from PATH ($REDIS_SERVER overrides); the module is
$GORAI_MODULE or <repo>/build/gorai.so.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


def _module_path():
    p = os.environ.get("GORAI_MODULE")
    if p:
        return str(Path(p).resolve())
    return str(REPO / "build" / "gorai.so")


def _redis_server():
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "redis-server"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class _Server:
    def __init__(self, module_args=()):
        self.dir = tempfile.mkdtemp(prefix="gorai-pytest-")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.port = None
        module = _module_path()
        if not os.path.exists(module):
            raise RuntimeError(f"module not found at {module} (run `make build`, or set GORAI_MODULE)")
        # Where the module looks for backends while AI.CONFIG BACKENDSPATH is unset.
        self.backends_path = os.path.join(os.path.dirname(module), "backends")
        for _attempt in range(5):
            self.port = _free_port()
            conf = os.path.join(self.dir, "redis.conf")
            with open(conf, "w") as f:
                f.write(
                    f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\ndaemonize no\n"
                    f'logfile ""\nsave ""\nappendonly no\nprotected-mode no\n'
                    f"loadmodule {module} {' '.join(module_args)}\n"
                )
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([_redis_server(), conf], stdout=log, stderr=log, cwd=self.dir)
            log.close()
            deadline = time.time() + 30
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                if _ping(self.port):
                    return
                time.sleep(0.02)
            self.stop()
            if "Address already in use" not in self.log():
                break
        raise RuntimeError("redis-server with the module did not start:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    srv = _Server()
    saved = {k: os.environ.get(k) for k in ("SR_DB_TYPE", "SSDB")}
    os.environ["SR_DB_TYPE"] = "Standalone"
    os.environ["SSDB"] = f"127.0.0.1:{srv.port}"
    try:
        yield srv
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        alive = srv.proc.poll() is None
        srv.cleanup()
        assert alive, "redis-server died during the tests:\n" + srv.log()


@pytest.fixture(scope="module")
def client(server):
    from smartredis import Client

    return Client(logger_name="test")
