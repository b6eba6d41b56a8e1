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
        r.client.call("replace_clip", clip_id="x")
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


def test_idle_connections_neither_hold_a_place_nor_lock_the_worker_out(running):
    from promptreel.resolve_plugin.bridge.server import MAX_CONNECTIONS, MAX_PENDING

    r = running()
    idle = [socket.create_connection(r.bridge.address, timeout=10) for _ in range(MAX_PENDING + MAX_CONNECTIONS)]
    try:
        assert r.client.call("hello")["product"] == "DaVinci Resolve Studio"  # the newest stranger's place
        assert r.client.call("timeline")["start_frame"] == 86400  # and it stays connected
    finally:
        for s in idle:
            s.close()


def test_a_silent_connection_is_timed_from_accept(running):
    r = running(read_seconds=0.3)
    with socket.create_connection(r.bridge.address, timeout=10) as s:  # connects, never sends a byte
        reply = json.loads(s.recv(65536))
    assert reply["error"]["code"] == "timeout"


def test_a_lone_surrogate_token_and_deep_nesting_get_an_answer_and_the_bridge_goes_on(running):
    r = running()
    reply = r.raw(b'{"id": 1, "token": "\\ud800", "op": "hello"}\n')
    assert reply["ok"] is False and reply["error"]["code"] == "auth"
    reply = r.raw(b"[" * 100000 + b"\n")
    assert reply["error"] == {"code": "bad_request", "message": "The request is nested too deeply."}
    reply = r.raw(
        b'{"id": 1, "token": "' + r.bridge.token.encode() + b'", "op": "hello", "args": ' + b"[" * 100000 + b"\n"
    )
    assert reply["error"]["code"] == "bad_request"
    assert r.bridge.calls == 0
    assert r.client.call("hello")["product"] == "DaVinci Resolve Studio"


def test_a_confined_bridge_reads_and_writes_only_in_the_declared_folders(running, tmp_path):
    media, exports, elsewhere = tmp_path / "media", tmp_path / "exports", tmp_path / "elsewhere"
    for folder in (media, exports, elsewhere):
        folder.mkdir()
    (exports / "link").symlink_to(elsewhere)
    r = running(confined=True)
    with pytest.raises(BridgeError) as e:  # nothing before the worker declares its folders
        r.client.call("export_timeline", path=str(exports / "cut.otio"))
    assert e.value.code == "outside_folders" and "none declared" in e.value.message
    assert r.client.call("folders", paths=[str(media), str(exports)]) == {"folders": [str(media), str(exports)]}
    with pytest.raises(BridgeError) as e:  # once: nothing can widen them later
        r.client.call("folders", paths=[str(elsewhere)])
    assert e.value.code == "refused"
    assert r.client.call("export_timeline", path=str(exports / "cut.otio"))["path"] == str(exports / "cut.otio")
    assert (exports / "cut.otio").is_file()
    for path in (
        elsewhere / "cut.otio",
        exports / ".." / "elsewhere" / "cut.otio",
        exports / "link" / "cut.otio",
        "cut.otio",
        str(tmp_path),
    ):
        with pytest.raises(BridgeError) as e:
            r.client.call("export_timeline", path=str(path))
        assert e.value.code == "outside_folders", path
        assert str(media) in e.value.message and "output_dir" in e.value.message
    assert sorted(p.name for p in elsewhere.iterdir()) == []
    for op, args in (
        ("replace_clip", {"clip_id": "x", "path": str(elsewhere / "a.mov")}),
        ("export_still", {"frame": 86400, "path": str(elsewhere / "a.png")}),
    ):
        with pytest.raises(BridgeError) as e:
            r.client.call(op, **args)
        assert e.value.code == "outside_folders", op
    (answer,) = r.client.call("import_clips", clips=[{"path": str(elsewhere / "a.mov"), "bin": ["promptreel"]}])
    assert "outside promptreel's media and export folders" in answer["error"]


def test_the_scripts_menu_bridge_is_confined_and_the_worker_declares_promptreels_folders(running, isolated_home):
    from promptreel.resolve_plugin.bridge.server import run
    from promptreel.resolve_plugin.gateway import BridgeGateway
    from promptreel.resolve_plugin.worker import declare_folders

    resolve, _ = cut_with_placeholders()
    assert run(resolve, idle_seconds=0).session.file_folders == []
    r = running(confined=True)
    gw = BridgeGateway(*r.bridge.address, token=r.bridge.token)
    try:
        media, exports = declare_folders(gw)
        assert Path(media) == (isolated_home / "media").resolve()  # settings.output_dir(), not the data folder
        (isolated_home / "media").mkdir()
        assert gw.export_timeline(isolated_home / "media" / "cut.otio").is_file()
        with pytest.raises(Exception, match="outside promptreel's media and export folders"):
            gw.export_timeline(isolated_home / "settings.toml")  # the data folder holds the journal and settings
        assert not (isolated_home / "settings.toml").exists()
    finally:
        gw.close()
