"""The bridge for real: loopback sockets, the token, size and time bounds, the allowlist, stopping."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from promptreel.resolve_plugin.bridge.client import BridgeClient, BridgeError
from promptreel.resolve_plugin.bridge.server import Bridge
from tests.fakes.resolve import cut_with_placeholders

ROOT = Path(__file__).resolve().parents[1]


class Running:
    def __init__(self, resolve, **kw):
        self.bridge = Bridge(resolve, **kw)
        self.thread = threading.Thread(target=self.bridge.serve_forever)  # the "Resolve thread"
        self.thread.start()
        host, port = self.bridge.address
        self.client = BridgeClient(host, port, self.bridge.token, timeout=10)

    def raw(self, data: bytes) -> dict:
        with socket.create_connection(self.bridge.address, timeout=10) as s:
            s.sendall(data)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return json.loads(buf)

    def close(self):
        self.client.close()
        self.bridge.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def running():
    resolve, _ = cut_with_placeholders()
    made = []

    def start(**kw):
        r = Running(kw.pop("resolve", resolve), **kw)
        made.append(r)
        return r

    yield start
    for r in made:
        r.close()


def test_listens_on_loopback_with_a_long_token(running):
    r = running()
    assert r.bridge.address[0] == "127.0.0.1"
    assert len(bytes.fromhex(r.bridge.token)) * 8 >= 128
    assert r.client.call("hello")["product"] == "DaVinci Resolve Studio"
    assert r.client.call("timeline")["start_frame"] == 86400


def test_wrong_or_missing_token_is_refused_and_nothing_runs(running):
    r = running()
    bad = BridgeClient(*r.bridge.address, token="0" * 64)
    with pytest.raises(BridgeError) as e:
        bad.call("hello")
    assert e.value.code == "auth"
    reply = r.raw(json.dumps({"id": 1, "op": "hello"}).encode() + b"\n")
    assert reply["ok"] is False and reply["error"]["code"] == "auth"
    assert r.bridge.calls == 0


def test_unknown_op_and_missing_arguments_are_refused(running):
    r = running()
    with pytest.raises(BridgeError) as e:
        r.client.call("DeleteTimelines")
    assert e.value.code == "unknown_op"
    with pytest.raises(BridgeError) as e:
        r.client.call("import_media", paths=[])
    assert e.value.code == "bad_request"
    assert r.client.call("hello")["page"] == "media"  # the connection stays usable


def test_oversize_request_is_refused(running):
    r = running(max_request=4096)
    big = json.dumps({"id": 1, "token": r.bridge.token, "op": "hello", "args": {"x": "a" * 10000}}).encode() + b"\n"
    reply = r.raw(big)
    assert reply["error"]["code"] == "too_large"
    assert r.bridge.calls == 0


def test_oversize_response_is_refused(running):
    r = running(max_response=200)
    with pytest.raises(BridgeError) as e:
        r.client.call("timeline")
    assert e.value.code == "too_large"


def test_slow_request_line_times_out(running):
    r = running(read_seconds=0.3)
    reply = r.raw(b'{"id": 1, "token": "')  # and nothing more
    assert reply["error"]["code"] == "timeout"


class _Stuck:
    """A resolve whose GetProductName blocks until released: an operation that takes too long."""

    def __init__(self, inner):
        self.inner = inner
        self.release = threading.Event()

    def GetProductName(self):
        self.release.wait(10)
        return "DaVinci Resolve"

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_slow_operation_times_out_and_the_bridge_goes_on(running):
    resolve, _ = cut_with_placeholders()
    stuck = _Stuck(resolve)
    r = running(resolve=stuck, call_seconds=0.3)
    with pytest.raises(BridgeError) as e:
        r.client.call("hello")
    assert e.value.code == "timeout"
    stuck.release.set()
    assert r.client.call("project")["name"] == "Spot"


def test_all_resolve_calls_run_on_the_serving_thread(running):
    resolve, _ = cut_with_placeholders()
    seen = set()

    class Spy:
        def __getattr__(self, name):
            seen.add(threading.get_ident())
            return getattr(resolve, name)

    r = running(resolve=Spy())
    clients = [BridgeClient(*r.bridge.address, token=r.bridge.token) for _ in range(3)]
    threads = [threading.Thread(target=c.call, args=("timeline",)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {r.thread.ident}
    for c in clients:
        c.close()


def test_shutdown_request_stops_serving(running):
    r = running()
    assert r.client.call("shutdown") == {"stopping": True}
    r.thread.join(10)
    assert not r.thread.is_alive()


def test_stops_when_the_worker_goes_away():
    resolve, _ = cut_with_placeholders()
    worker = subprocess.Popen([sys.executable, "-c", "pass"])
    bridge = Bridge(resolve, worker=worker)
    worker.wait()
    bridge.serve_forever()  # returns at once: nobody is left to serve
    with pytest.raises(OSError):
        socket.create_connection(bridge.address, timeout=2)


_CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from tests.fakes.resolve import cut_with_placeholders
from promptreel.resolve_plugin.bridge.server import run
resolve, _ = cut_with_placeholders()
run(resolve, worker_command=[sys.executable, "-c", {worker!r}], session_file={session!r})
"""

_WORKER = """
import os, sys
sys.path.insert(0, {root!r})
from promptreel.resolve_plugin.gateway import BridgeGateway
gw = BridgeGateway.from_env()
state = gw.timeline()
mode = oct(os.stat({session!r}).st_mode & 0o777)
print(len(state.tracks[0].items), gw.hello().product, mode, flush=True)
gw.shutdown()
"""


def test_run_in_a_real_subprocess_starts_the_worker_with_the_token(tmp_path):
    session = str(tmp_path / "bridge.json")
    code = _CHILD.format(root=str(ROOT), session=session, worker=_WORKER.format(root=str(ROOT), session=session))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3 DaVinci Resolve Studio 0o600"
    assert not Path(session).exists()  # removed on exit
    assert "PROMPTREEL_BRIDGE_TOKEN" not in out.stdout
