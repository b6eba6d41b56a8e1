"""BytePlus ModelArk's Seedance tasks: exact request bodies, a round trip against the strict fake, what the
service refuses, cancel; the faults every job API shows are tests/test_provider_job_faults.py's."""

import base64

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.ark import Ark
from promptreel.core.providers.base import JobState
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeArk, png_file
from promptreel.core.sandbox.ark import frame
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol

KEY = "ark-secret-key-abcdef123456"
SEEDANCE = "dreamina-seedance-2-0-260128"


@pytest.fixture(scope="module")
def server():
    with FakeArk(key=KEY) as f:
        yield f


def ark(client, fake, model=SEEDANCE):
    return protocol(Ark, model, client, {"ARK_API_KEY": KEY}, fake.base_url)


def offline(client, model=SEEDANCE):
    return protocol(Ark, model, client, {"ARK_API_KEY": KEY}, "https://ark.ap-southeast.bytepluses.com/api/v3")


def req(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "seedance-2", "seconds": 6, "size": "1280x720", **kw}
    )


def test_registered_under_its_route_name_with_the_sdk_base_url(client):
    assert protocol_class("ark") is Ark
    proto = protocol(Ark, SEEDANCE, client, {"ARK_API_KEY": KEY}, "https://ark.ap-southeast.bytepluses.com")
    assert proto.base_url == Ark.default_base_url  # the bare host gets the SDK's /api/v3


def test_build_text_to_video_exact(client):
    call = offline(client).build(req(seed=7, audio=False), "job-1")
    assert (call.method, call.path) == ("POST", "/contents/generations/tasks")
    assert call.json == {
        "model": SEEDANCE,
        "content": [{"type": "text", "text": "a lighthouse at dusk"}],
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 6,
        "generate_audio": False,
    }
    assert KEY not in repr(call)  # the key rides on the client's auth, never in the call
    wide, tall = (offline(client).build(req(size=s), "j").json for s in ("992x432", "2160x3840"))
    assert (wide["resolution"], wide["ratio"], tall["resolution"], tall["ratio"]) == ("480p", "21:9", "4k", "9:16")
    assert "seed" in offline(client, "seedance-custom-endpoint").build(req(seed=7), "j").json  # a model ModelArk judges


def test_build_keyframes_and_references(client):
    png = png_file()
    uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    proto = offline(client)
    keyed = proto.build(req(first_frame=png, last_frame=png), "j").json
    assert keyed["content"][1:] == [
        {"type": "image_url", "image_url": {"url": uri}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": uri}, "role": "last_frame"},
    ]
    assert keyed["ratio"] == "adaptive"  # with keyframes the image sets the frame
    refs = proto.build(req(reference_images=(png, png)), "j").json
    assert [i["role"] for i in refs["content"][1:]] == ["reference_image"] * 2 and refs["ratio"] == "16:9"
    for bad in (
        req(first_frame=png, reference_images=(png,)),
        req(reference_images=(png,) * 10),
        req(extend_video="job-x"),
        req(remix_of="job-x"),
        req(size="1000x300"),
    ):
        with pytest.raises(UnsupportedRequest):
            proto.build(bad, "j")
    with pytest.raises(UnsupportedRequest, match="480p, 720p only"):  # Seedance 2.5 on ModelArk stops at 720p
        offline(client, "dreamina-seedance-2-5-260628").build(req(size="1920x1080"), "j")


CASES = [(m, r) for m in load_catalog().models.values() for r in m.routes if r.protocol == "ark"]


@pytest.mark.parametrize("model, route", CASES, ids=[m.id for m, _ in CASES])
async def test_every_catalog_size_and_length_the_route_serves_is_accepted_by_the_fake(
    model, route, fake, client, tmp_path
):
    proto = ark(client, fake, route.model_id)
    made = 0
    for size in model.all_sizes():
        try:
            call = proto.build(GenerationRequest(prompt="p", model=model.id, seconds=4, size=str(size)), "j")
        except UnsupportedRequest:
            assert route.model_id == "dreamina-seedance-2-5-260628" and min(size.width, size.height) >= 946
            continue  # 1080p is Runway's, the model's first route
        for seconds in (model.allowed_durations(size)[0], model.allowed_durations(size)[-1]):
            call = proto.build(GenerationRequest(prompt="p", model=model.id, seconds=seconds, size=str(size)), "j")
            sub = await proto.submit(call, tmp_path / "s")
            width, height = frame(call.json["ratio"], call.json["resolution"])
            assert (fake.jobs[sub.job_id].spec.width, fake.jobs[sub.job_id].spec.height) == (width, height)
            made += 1
            if call.json["resolution"] != "4k" and model.id != "seedance-2.5":  # 2.0's pixel table is the catalog's
                assert (width, height) == (size.width, size.height)
    assert made >= 2 * 12


async def test_round_trip_and_key_only_to_api(fake, client, tmp_path):
    proto = ark(client, fake)
    sub = await proto.submit(proto.build(req(), "job-1"), tmp_path / "s.mp4")
    assert sub.state is JobState.QUEUED and sub.job_id.startswith("cgt-")
    first = await proto.poll(sub.job_id)
    assert (first.state, first.raw_state) == (JobState.QUEUED, "queued")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED and status.media[0].expires_at is not None
    out = tmp_path / "out.mp4"
    assert await download(client, proto, status.media[0], out, attempts=1) == 1
    assert frame_size(out) == (320, 180)  # 1280x720 within the small sandbox limit
    assert fake.key_leaks() == [] and fake.creates == 1


async def test_keyframe_take_follows_the_image(fake, client, tmp_path):
    proto = ark(client, fake)
    sub = await proto.submit(
        proto.build(req(size="720x1280", first_frame=png_file(size="180x320")), "j"), tmp_path / "s"
    )
    assert (fake.jobs[sub.job_id].spec.width, fake.jobs[sub.job_id].spec.height) == (720, 1280)


async def test_strict_fake_refuses_what_modelark_refuses(fake, client):
    headers = {"Authorization": f"Bearer {KEY}"}
    base = {
        "model": SEEDANCE,
        "content": [{"type": "text", "text": "p"}],
        "resolution": "720p",
        "ratio": "16:9",
        "duration": 5,
    }
    for body in (
        {**base, "seed": 3},
        {**base, "duration": "5"},
        {**base, "duration": 16},
        {**base, "resolution": "720P"},
        {**base, "prompt": "p"},
        {**base, "ratio": "2:1"},
        {**base, "model": "dreamina-seedance-2-0-fast-260128", "resolution": "1080p"},
        {**base, "content": [{"type": "text", "text": "p"}, {"type": "image_url", "image_url": {"url": "x"}}]},
    ):
        r = await client.post(f"{fake.base_url}/contents/generations/tasks", headers=headers, json=body)
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidParameter", body
    assert fake.creates == 0


async def test_cancel_stops_a_queued_task(fake, client, tmp_path):
    proto = ark(client, fake)
    sub = await proto.submit(proto.build(req(), "j"), tmp_path / "s")
    await proto.cancel(sub.job_id)
    status = await proto.poll(sub.job_id)
    assert (status.state, status.raw_state) == (JobState.CANCELED, "cancelled")
    assert [c.method for c in fake.calls_to("DELETE", r"/api/v3/contents/generations/tasks/.*")] == ["DELETE"]
