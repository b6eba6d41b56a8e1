"""The worker's side of the bridge protocol (see server.py): one persistent loopback connection.

Standard library only, so the entry script can use it too (to check for a running bridge).
"""

import itertools
import json
import socket
import threading

from .server import MAX_RESPONSE_BYTES


class BridgeError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


class BridgeClient:
    def __init__(self, host, port, token, timeout=130.0, max_response=MAX_RESPONSE_BYTES):
        self.address = (host, int(port))
        self.token = token
        self.timeout = timeout
        self.max_response = max_response
        self.round_trips = 0
        self._sock = None
        self._buf = b""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def call(self, op, **args):
        with self._lock:
            rid = next(self._ids)
            line = json.dumps({"id": rid, "token": self.token, "op": op, "args": args}, separators=(",", ":"))
            try:
                reply = self._exchange(line.encode("utf-8") + b"\n")
            except (OSError, ValueError) as e:
                self.close()
                raise BridgeError(
                    "unreachable", f"The Resolve bridge did not answer ({e.__class__.__name__})."
                ) from None
            self.round_trips += 1
            if not reply.get("ok"):
                err = reply.get("error") or {}
                if err.get("code") in ("auth", "too_large", "bad_request", "busy"):
                    self.close()  # the bridge closes these connections
                raise BridgeError(err.get("code", "internal"), err.get("message", "The bridge refused the request."))
            if reply.get("id") != rid:
                self.close()
                raise BridgeError("internal", "The bridge answered another request.")
            return reply.get("result")

    def _exchange(self, data):
        if self._sock is None:
            self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._buf = b""
        self._sock.sendall(data)
        while b"\n" not in self._buf:
            if len(self._buf) > self.max_response:
                raise ValueError("answer too large")
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("closed")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line.decode("utf-8"))

    def close(self):
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf = b""
