"""The sandbox's shared parts: media at what each model makes (within a limit), faults per request,
latency, the create counter."""

from datetime import date
from fractions import Fraction

import httpx
import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.sandbox import FULL, SMALL, FakeRunway, Limit, Reply, Spec, make_fake, render, size_for
from promptreel.core.sandbox.fake import SANDBOX_KEY

KEY = "sandbox-runway-key-0123"
HEADERS = {"Authorization": f"Bearer {KEY}", "X-Runway-Version": "2024-11-06"}
BODY = {"model": "gen4.5", "promptText": "a lighthouse", "ratio": "720:1280", "duration": 5}


@pytest.fixture(scope="module")
def server():
    with FakeRunway(key=KEY) as f:
        yield f


@pytest.fixture
def fake(server):
    server.reset()
    server.latency = 0.0
    return server


@pytest.mark.parametrize(
    "spec, limit, expected",
    [
        (Spec(1280, 720, Fraction(24), Fraction(8), True), SMALL, (320, 180, 24)),
        (Spec(720, 1280, Fraction(30), Fraction(4), True), SMALL, (180, 320, 30)),
        (Spec(1920, 1080, Fraction(25), Fraction(6)), Limit(640, 360, Fraction(1, 2)), (640, 360, 13)),
        (Spec(320, 192, Fraction(24), frames=25), FULL, (320, 192, 25)),
    ],
)
def test_limit_scales_size_and_length_never_rate(spec, limit, expected):
    small = limit.apply(spec)
    assert (small.width, small.height, small.frame_count) == expected
    assert small.fps == spec.fps and small.audio == spec.audio


def test_render_is_real_and_cached_by_spec(tmp_path):
    spec = Spec(160, 90, Fraction(30000, 1001), frames=7, audio=True)
    data = render(spec)
    assert render(Spec(160, 90, Fraction(30000, 1001), frames=7, audio=True)) is data  # rendered once
    path = tmp_path / "c.mp4"
    path.write_bytes(data)
    info = probe(path)
    assert (info.width, info.height, info.frames, info.rate) == (160, 90, 7, Fraction(30000, 1001))
    assert info.has_audio


def test_aspect_sizes():
    assert size_for("16:9", 720) == (1280, 720)
    assert size_for("9:16", 1080) == (1080, 1920)
    assert size_for("1:1", 720) == (720, 720)


def test_media_follows_the_request(fake, tmp_path):
    with httpx.Client(base_url=fake.url, headers=HEADERS) as c:
        task = c.post("/v1/text_to_video", json=BODY).json()
        for _ in range(3):
            status = c.get(f"/v1/tasks/{task['id']}").json()
    assert status["status"] == "SUCCEEDED"
    out = tmp_path / "o.mp4"
    out.write_bytes(httpx.get(status["output"][0]).content)
    info = probe(out)
    assert (info.width, info.height, info.rate, info.has_audio) == (180, 320, Fraction(24), False)  # portrait, scaled


def test_faults_by_header_query_and_queue_each_used_once(fake):
    with httpx.Client(base_url=fake.url, headers=HEADERS) as c:
        assert c.post("/v1/text_to_video", json=BODY, params={"fake_fault": "create:429"}).status_code == 429
        assert c.post("/v1/text_to_video", json=BODY, headers={"X-Fake-Fault": "create:503"}).status_code == 503
        fake.fail_next("POST", r"/v1/text_to_video", Reply(502, "bad gateway"))
        assert c.post("/v1/text_to_video", json=BODY).status_code == 502
        assert fake.creates == 0
        task = c.post("/v1/text_to_video", json=BODY, headers={"X-Fake-Fault": "throttled"}).json()  # an outcome
        states = [c.get(f"/v1/tasks/{task['id']}").json()["status"] for _ in range(3)]
    assert states == ["THROTTLED", "THROTTLED", "SUCCEEDED"]
    assert fake.creates == 1


def test_latency_holds_a_job_at_its_first_state(fake):
    fake.latency = 3600.0
    with httpx.Client(base_url=fake.url, headers=HEADERS) as c:
        task = c.post("/v1/text_to_video", json=BODY).json()
        states = {c.get(f"/v1/tasks/{task['id']}").json()["status"] for _ in range(5)}
    assert states == {"PENDING"} and fake.creates == 1


@pytest.mark.parametrize(
    "route, path",
    [
        ("openai", "/v1/videos"),
        ("gemini", "/v1beta/models/veo-3.0-generate-001:predictLongRunning"),
        (
            "vertex",
            "/v1/projects/film-project/locations/us-central1/publishers/google/models/veo-3.0-generate-001"
            ":predictLongRunning",
        ),
        ("comfyui", "/prompt"),
    ],
)
def test_every_fake_takes_the_generic_create_faults(route, path):
    with make_fake(route, limit=SMALL) as fake:
        r = httpx.post(fake.url + path, json={}, headers={"X-Fake-Fault": "create:429"})
        assert (r.status_code, r.headers.get("retry-after")) == (429, "2")
        r = httpx.post(fake.url + path, json={}, params={"fake_fault": "create:429-bare"})
        assert r.status_code == 429 and "retry-after" not in r.headers
        assert httpx.post(fake.url + path, json={}, headers={"X-Fake-Fault": "create:503"}).status_code == 503
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(fake.url + path, json={}, headers={"X-Fake-Fault": "create:drop"})
        assert fake.creates == 0


async def test_corrupt_and_expired_downloads(tmp_path):
    from promptreel.core.errors import UserError
    from promptreel.core.providers.openai import OpenAIVideos
    from promptreel.core.request import GenerationRequest
    from promptreel.core.sandbox.drive import download, poll_to_end, protocol

    with make_fake("openai", limit=SMALL) as fake:
        fake.today = date(2026, 9, 1)  # the Sora API before its shutdown: the faults are the download's
        async with httpx.AsyncClient(timeout=10) as client:
            sora = protocol(OpenAIVideos, "sora-2", client, {"OPENAI_API_KEY": SANDBOX_KEY}, fake.base_url)
            got = {}
            for fault in ("corrupt", "expired"):
                call = sora.build(GenerationRequest(prompt="p", seconds=4, size="1280x720"), fault)
                call.headers["X-Fake-Fault"] = fault
                done = await poll_to_end(sora, (await sora.submit(call, tmp_path)).job_id)
                try:
                    await download(client, sora, done.media[0], tmp_path / f"{fault}.mp4", attempts=1)
                    got[fault] = "downloaded"
                except httpx.HTTPStatusError as e:
                    got[fault] = e.response.status_code
        assert got == {"corrupt": "downloaded", "expired": 403} and fake.creates == 2
    with pytest.raises(UserError):
        probe(tmp_path / "corrupt.mp4")  # the bytes arrived, but they are not a video


async def test_runway_routes_veo_and_sends_what_veo_makes(fake, tmp_path):
    from dataclasses import replace

    from promptreel.core.errors import UnsupportedRequest
    from promptreel.core.providers.base import ErrorKind, ProviderError
    from promptreel.core.providers.runway import Runway
    from promptreel.core.request import GenerationRequest
    from promptreel.core.sandbox.drive import download, poll_to_end, protocol

    async with httpx.AsyncClient(timeout=10) as client:
        veo = protocol(Runway, "veo3.1", client, {"RUNWAYML_API_SECRET": KEY}, fake.url)
        call = veo.build(GenerationRequest(prompt="p", seconds=8, size="1920x1080"), "j")
        status = await poll_to_end(veo, (await veo.submit(call, tmp_path)).job_id)
        assert await download(client, veo, status.media[0], tmp_path / "v.mp4", attempts=1) == 1
        with pytest.raises(UnsupportedRequest, match="not 5 s"):  # Veo takes 4, 6 or 8 s: refused before sending
            veo.build(GenerationRequest(prompt="p", seconds=5, size="1920x1080"), "k")
        bad = replace(call, json={**call.json, "duration": 5})  # and the fake refuses it as Runway does
        with pytest.raises(ProviderError, match="duration") as e:
            await veo.submit(bad, tmp_path)
        assert e.value.kind is ErrorKind.BAD_REQUEST
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height, info.rate, info.has_audio) == (320, 180, Fraction(24), True)
    assert fake.creates == 1
