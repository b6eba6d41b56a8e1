"""The fake-server harness itself: real sockets, Range, truncation, dropped answers."""

import httpx
import pytest

from promptreel.core.sandbox import LoopbackServer, Reply


def test_routes_json_range_truncate_and_drop():
    with LoopbackServer() as srv:
        srv.route("POST", r"/v1/echo")(lambda c: Reply(201, {"got": c.json()}))
        srv.route("GET", r"/file")(lambda c: Reply(200, b"0123456789", ranges=True))
        srv.route("GET", r"/short")(lambda c: Reply(200, b"0123456789", truncate_at=4))
        srv.route("POST", r"/lost")(lambda c: Reply(drop=True))
        with httpx.Client(base_url=srv.url) as client:
            r = client.post("/v1/echo", json={"a": 1})
            assert (r.status_code, r.json()) == (201, {"got": {"a": 1}})
            r = client.get("/file", headers={"Range": "bytes=6-"})
            assert (r.status_code, r.content, r.headers["content-range"]) == (206, b"6789", "bytes 6-9/10")
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("/short")
            with pytest.raises(httpx.RemoteProtocolError):
                client.post("/lost", json={})
            assert client.get("/nothing").status_code == 404
        assert len(srv.calls_to("POST", r"/lost")) == 1
