"""The bridge's loopback server: newline-delimited JSON on 127.0.0.1, one request per line.

Request:  {"id": 1, "token": "<session token>", "op": "timeline", "args": {...}}
Response: {"id": 1, "ok": true, "result": ...} or {"id": 1, "ok": false, "error": {"code": ..., "message": ...}}

Every request carries the per-session token (256 random bits), compared in constant time. Requests
and responses are bounded in size and time: a connection's first request must arrive whole within
`read_seconds` of its accept, and connections that have not yet sent a good token (at most
MAX_PENDING; the oldest makes room for a new one) never take the places of those that have (at most
MAX_CONNECTIONS), so idle or slow strangers cannot lock the worker out. Anything malformed gets an
error answer and a closed connection; the bridge goes on serving. A confined bridge (the one `run`
starts) reads and writes files only in the folders the worker declares once, first thing (`folders`).

Connection threads only read and write sockets: all Resolve calls are made by the thread that runs
`serve_forever` (the Scripts-menu script's own thread; Resolve objects answer there). A Scripts-menu
script is a child process of Resolve whose threads die when it returns, so `serve_forever` blocks
until a `shutdown` request, the worker process exiting, or the idle limit.

Python 3.6, standard library only.
"""

import contextlib
import hmac
import json
import os
import queue
import secrets
import socket
import threading
import time

from . import PROTOCOL
from .ops import OpError, Session, dispatch

MAX_REQUEST_BYTES = 1 << 20  # one request line
MAX_RESPONSE_BYTES = 16 << 20  # one response line
MAX_CONNECTIONS = 8  # connections that have sent a good token (the worker needs one or two)
MAX_PENDING = 8  # connections that have not, yet
READ_SECONDS = 10.0  # a first request, from accept, and any later one, once begun, must arrive within this
CALL_SECONDS = 120.0  # an operation must finish within this
POLL_SECONDS = 0.2


class Bridge:
    def __init__(
        self,
        resolve,
        token=None,
        port=0,
        read_seconds=READ_SECONDS,
        call_seconds=CALL_SECONDS,
        idle_seconds=None,
        worker=None,
        max_request=MAX_REQUEST_BYTES,
        max_response=MAX_RESPONSE_BYTES,
        confined=False,
    ):
        """`confined`: no file is read or written until the worker declares promptreel's folders (the
        Scripts-menu bridge); otherwise any path until it does (tests, in one process)."""
        self.session = Session(resolve, file_folders=[] if confined else None)
        self.token = token or secrets.token_hex(32)
        self.read_seconds = read_seconds
        self.call_seconds = call_seconds
        self.idle_seconds = idle_seconds
        self.worker = worker  # a subprocess.Popen: when it exits, the bridge stops
        self.max_request = max_request
        self.max_response = max_response
        self.calls = 0
        self._stop = threading.Event()
        self._jobs = queue.Queue()
        self._last_request = time.monotonic()
        self._lock = threading.Lock()
        self._pending = []  # connections without a good token yet, oldest first
        self._trusted = 0  # connections with one
        self._declared = False  # the worker has declared its folders (once)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(MAX_CONNECTIONS + MAX_PENDING)
        self._listener.settimeout(POLL_SECONDS)
        self.address = self._listener.getsockname()

    def info(self):
        """What the worker needs to connect (written to a private session file, or passed in its environment)."""
        return {
            "protocol": PROTOCOL,
            "host": self.address[0],
            "port": self.address[1],
            "token": self.token,
            "pid": os.getpid(),
        }

    def stop(self):
        self._stop.set()

    # -- the Resolve thread
    def serve_forever(self):
        """Serve until stopped. The calling thread makes every Resolve call."""
        accept = threading.Thread(target=self._accept_loop, name="bridge-accept")
        accept.daemon = True
        accept.start()
        try:
            while not self._stop.is_set():
                if self.worker is not None and self.worker.poll() is not None:
                    break  # the worker went away: nobody is left to serve
                if self.idle_seconds is not None and time.monotonic() - self._last_request > self.idle_seconds:
                    break
                try:
                    job = self._jobs.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                job.run(self.session)
                self.calls += 1
        finally:
            self._stop.set()
            self._listener.close()
            accept.join(2 * POLL_SECONDS + 1)

    # -- connection threads: sockets only
    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                if len(self._pending) >= MAX_PENDING:
                    _drop(self._pending.pop(0))  # the oldest stranger makes room: the worker always gets in
                self._pending.append(conn)
            t = threading.Thread(target=self._serve_connection, args=(conn, time.monotonic()), name="bridge-conn")
            t.daemon = True
            t.start()

    def _serve_connection(self, conn, accepted):
        state = {"trusted": False}
        try:
            conn.settimeout(POLL_SECONDS)
            buf = b""
            started = accepted  # the first request is timed from accept: silence is no way to hold a place
            while not self._stop.is_set():
                newline = buf.find(b"\n")
                if newline < 0:
                    if len(buf) > self.max_request:
                        self._send(
                            conn, None, error=("too_large", f"The request is larger than {self.max_request} bytes.")
                        )
                        return
                    if started is not None and time.monotonic() - started > self.read_seconds:
                        self._send(conn, None, error=("timeout", "The request did not arrive in time."))
                        return
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk:
                        return
                    if started is None:
                        started = time.monotonic()
                    buf += chunk
                    continue
                line, buf = buf[:newline], buf[newline + 1 :]
                started = time.monotonic() if buf else None
                if len(line) > self.max_request:
                    self._send(conn, None, error=("too_large", f"The request is larger than {self.max_request} bytes."))
                    return
                try:
                    go_on = self._handle(conn, line, state)
                except OSError:
                    raise
                except Exception as e:  # a bug: answer it, close this connection, keep serving the others
                    self._send(
                        conn,
                        None,
                        error=("internal", f"The bridge could not read the request ({e.__class__.__name__})."),
                    )
                    return
                if not go_on:
                    return
        except OSError:
            return
        finally:
            with self._lock:
                if state["trusted"]:
                    self._trusted -= 1
                elif conn in self._pending:
                    self._pending.remove(conn)
            conn.close()

    def _trust(self, conn, state):
        """Move a connection that sent a good token out of the strangers' places. False: no place left."""
        if state["trusted"]:
            return True
        with self._lock:
            if conn in self._pending:
                self._pending.remove(conn)
            if self._trusted >= MAX_CONNECTIONS:
                return False
            self._trusted += 1
            state["trusted"] = True
            return True

    def _token_ok(self, token):
        # surrogatepass: a lone surrogate in a JSON string is a wrong token, not an encoding crash.
        return isinstance(token, str) and hmac.compare_digest(
            token.encode("utf-8", "surrogatepass"), self.token.encode("utf-8")
        )

    def _handle(self, conn, line, state):
        """Answer one request line. Returns False when the connection must close."""
        try:
            request = json.loads(line.decode("utf-8"))
        except RecursionError:
            self._send(conn, None, error=("bad_request", "The request is nested too deeply."))
            return False
        except ValueError:
            self._send(conn, None, error=("bad_request", "The request is not JSON."))
            return False
        if not isinstance(request, dict):
            self._send(conn, None, error=("bad_request", "The request is not a JSON object."))
            return False
        rid = request.get("id")
        if not self._token_ok(request.get("token")):
            self._send(conn, rid, error=("auth", "Wrong or missing session token."))
            return False  # no second guess on the same connection
        if not self._trust(conn, state):
            self._send(conn, rid, error=("busy", f"The bridge has {MAX_CONNECTIONS} connections already."))
            return False
        self._last_request = time.monotonic()
        op = request.get("op")
        if op == "shutdown":
            self._send(conn, rid, result={"stopping": True})
            self.stop()
            return False
        if op == "ping":
            self._send(conn, rid, result={"protocol": PROTOCOL, "calls": self.calls})
            return True
        if op == "folders":
            self._declare(conn, rid, request.get("args") or {})
            return True
        job = _Job(op, request.get("args") or {})
        self._jobs.put(job)
        if not job.done.wait(self.call_seconds):
            job.abandoned = True
            message = f"Resolve did not answer '{op}' within {self.call_seconds:g} s."
            self._send(conn, rid, error=("timeout", message))
            return True
        if job.error is not None:
            self._send(conn, rid, error=job.error)
        else:
            self._send(conn, rid, result=job.result)
        return True

    def _declare(self, conn, rid, args):
        """The worker's media and export folders, once: later declarations cannot widen them."""
        paths = args.get("paths") if isinstance(args, dict) else None
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and os.path.isabs(p) for p in paths):
            self._send(conn, rid, error=("bad_request", "'folders' needs paths: a list of absolute folders."))
            return
        with self._lock:
            if self._declared:
                self._send(conn, rid, error=("refused", "promptreel's folders were declared already."))
                return
            self._declared = True
            self.session.file_folders = list(paths)
        self._send(conn, rid, result={"folders": list(paths)})

    def _send(self, conn, rid, result=None, error=None):
        if error is None:
            reply = {"id": rid, "ok": True, "result": result}
        else:
            reply = {"id": rid, "ok": False, "error": {"code": error[0], "message": error[1]}}
        data = json.dumps(reply, separators=(",", ":")).encode("utf-8")
        if len(data) > self.max_response:
            message = f"The answer is larger than {self.max_response} bytes."
            reply = {"id": rid, "ok": False, "error": {"code": "too_large", "message": message}}
            data = json.dumps(reply).encode("utf-8")
        conn.settimeout(self.read_seconds)
        try:
            conn.sendall(data + b"\n")
        finally:
            conn.settimeout(POLL_SECONDS)


def _drop(conn):
    """Close a connection from another thread: its reader sees the end and cleans up."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


class _Job:
    def __init__(self, op, args):
        self.op = op
        self.args = args
        self.done = threading.Event()
        self.result = None
        self.error = None
        self.abandoned = False

    def run(self, session):
        if self.abandoned:
            return  # its caller already got a timeout; do not make a change nobody will see
        try:
            self.result = dispatch(session, self.op, self.args)
        except OpError as e:
            self.error = (e.code, e.message)
        except Exception as e:  # a bug or a Resolve failure: report it, keep serving
            self.error = ("internal", f"{e.__class__.__name__}: {e}")
        self.done.set()


def write_session_file(path, info):
    """The connection details, readable by this user only, written under a temporary name first."""
    tmp = path + ".part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)


def run(resolve, worker_command=None, session_file=None, idle_seconds=None, env=None):
    """What the Scripts-menu entry calls: start the bridge, start the worker, serve until either stops."""
    import subprocess

    bridge = Bridge(resolve, idle_seconds=idle_seconds, confined=True)
    info = bridge.info()
    if session_file:
        write_session_file(session_file, info)
    try:
        if worker_command:
            child_env = dict(os.environ if env is None else env)
            child_env["PROMPTREEL_BRIDGE"] = "{}:{}".format(info["host"], info["port"])
            child_env["PROMPTREEL_BRIDGE_TOKEN"] = info["token"]  # the environment, not argv: argv is public
            bridge.worker = subprocess.Popen(worker_command, env=child_env)
        bridge.serve_forever()
    finally:
        if bridge.worker is not None and bridge.worker.poll() is None:
            bridge.worker.terminate()  # stopped on request: the worker has nothing left to talk to
        if session_file and os.path.exists(session_file):
            os.remove(session_file)
    return bridge
