"""The models Runway hosts (Seedance, Hailuo, HappyHorse, Veo, Gemini Omni, Aleph): what promptreel sends for
each is what Runway's own SDK types allow (read from the installed runwayml, not retyped), every size and
length the catalog offers builds and the strict fake takes it, and what a model cannot take is refused
before anything is sent."""

from __future__ import annotations

import base64
import typing
from fractions import Fraction
from typing import get_args, get_origin

import pytest
from runwayml.types import image_to_video_create_params, text_to_video_create_params, video_to_video_create_params
from typing_extensions import Required, get_type_hints

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.providers.base import JobState
from promptreel.core.providers.runway import Runway
from promptreel.core.providers.runway_models import MODELS
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeRunway, Spec, png_file, render
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end, protocol
from promptreel.core.sandbox.runway import SCHEMAS, invalid

KEY = "rw-secret-key-abcdef123456"
SDK = {
    "text_to_video": text_to_video_create_params,
    "image_to_video": image_to_video_create_params,
    "video_to_video": video_to_video_create_params,
}


@pytest.fixture(scope="module")
def server():
    with FakeRunway(key=KEY) as f:
        yield f


def runway(model_id, client=None, url="https://x"):
    return protocol(Runway, model_id, client, {"RUNWAYML_API_SECRET": KEY}, url)


def req(model="seedance-2", **kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": model, "seconds": 5, "size": "1280x720", **kw}
    )


def clip(tmp_path, size=(1280, 720), seconds=2, name="source.mp4"):
    path = tmp_path / name
    path.write_bytes(render(Spec(size[0], size[1], Fraction(24), Fraction(seconds), audio=True)))
    return path


def uri_of(path, mime):
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


def sdk_fields(endpoint: str, model_id: str) -> tuple[set[str], set[str]]:
    """(every wire field, the required ones) of `model_id`'s TypedDict in the installed SDK's params for `endpoint`."""
    module = SDK[endpoint]
    union = next(v for k, v in vars(module).items() if k.endswith("CreateParams"))
    for cls in get_args(union):
        hints = get_type_hints(cls, include_extras=True)
        literal = hints["model"]
        while get_origin(literal) is not typing.Literal:
            literal = get_args(literal)[0]
        if get_args(literal)[0] != model_id:
            continue
        wire = {}
        for name, hint in hints.items():
            alias = next((m.alias for m in getattr(hint, "__metadata__", ()) if getattr(m, "alias", None)), None)
            if alias is None and get_args(hint):  # Required[Annotated[...]] keeps its alias one level down
                alias = next(
                    (m.alias for m in getattr(get_args(hint)[0], "__metadata__", ()) if getattr(m, "alias", None)), None
                )
            wire[name] = alias or name
        # The SDK's modules postpone annotations, so __required_keys__ is empty: read Required off the hints.
        return set(wire.values()), {wire[n] for n, hint in hints.items() if get_origin(hint) is Required}
    raise AssertionError(f"runwayml has no {model_id} on {endpoint}")


def agrees_with_sdk(call) -> None:
    endpoint, body = call.path.rsplit("/", 1)[1], call.json
    allowed, required = sdk_fields(endpoint, body["model"])
    assert set(body) <= allowed, f"{body['model']} on {endpoint}: {set(body) - allowed} not in the SDK's type"
    assert required <= set(body), f"{body['model']} on {endpoint}: {required - set(body)} missing"
    assert invalid(endpoint, body) is None, invalid(endpoint, body)


# --- what each model is sent -------------------------------------------------------------------


@pytest.mark.parametrize("model_id", sorted(m for m, h in MODELS.items() if h.text is not None))
def test_negative_prompt_audio_and_seed_go_exactly_where_the_sdk_takes_them(model_id):
    hosted = MODELS[model_id]
    size = next(iter(hosted.text)).replace(":", "x")
    call = runway(model_id).build(
        req(size=size, seconds=hosted.durations[0], seed=11, audio=False, negative_prompt="text, logos"), "j"
    )
    allowed, _ = sdk_fields("text_to_video", model_id)
    for field, sent in (("negativePrompt", "text, logos"), ("audio", False), ("seed", 11)):
        assert call.json.get(field) == (sent if field in allowed else None), field
    agrees_with_sdk(call)


def test_exact_bodies_from_text_and_from_frames(tmp_path):
    png = png_file()
    image = uri_of(png, "image/png")
    call = runway("seedance2").build(
        req(seconds=10, size="1920x1080", seed=3, audio=False, reference_images=(png,)), "j"
    )
    assert (call.path, call.json) == (
        "/v1/text_to_video",
        {
            "model": "seedance2",
            "promptText": "a lighthouse at dusk",
            "ratio": "1920:1080",
            "duration": 10,
            "references": [{"uri": image}],
            "seed": 3,
            "audio": False,
        },
    )
    call = runway("seedance2").build(req(first_frame=png, last_frame=png), "j")
    assert call.json["promptImage"] == [{"uri": image, "position": "first"}, {"uri": image, "position": "last"}]
    call = runway("hailuo3").build(req(model="hailuo-3", size="1440x2560", seconds=6, seed=3), "j")
    assert call.json == {
        "model": "hailuo3",
        "promptText": "a lighthouse at dusk",
        "ratio": "9:16",
        "resolution": "2k",
        "duration": 6,
    }
    call = runway("happyhorse_1_0").build(req(model="happyhorse-1.0", size="1662x1248", first_frame=png), "j")
    assert (call.path, call.json) == (
        "/v1/image_to_video",
        {
            "model": "happyhorse_1_0",
            "promptText": "a lighthouse at dusk",
            "resolution": "1080p",
            "duration": 5,
            "promptImage": image,
        },
    )  # the aspect follows the frame: no ratio on this endpoint
    assert runway("happyhorse_1_0").build(req(model="happyhorse-1.0", size="1108x832"), "j").json["ratio"] == "1108:832"
    call = runway("gemini_omni_flash").build(req(model="gemini-omni-1.2-flash", size="720x1280", seconds=10), "j")
    assert call.json == {
        "model": "gemini_omni_flash",
        "promptText": "a lighthouse at dusk",
        "ratio": "720:1280",
        "duration": 10,
    }
    for built in (call,):
        agrees_with_sdk(built)


def test_a_clip_is_edited_or_extended_on_video_to_video(tmp_path):
    source, png = clip(tmp_path), png_file()
    video = uri_of(source, "video/mp4")
    call = runway("aleph2").build(req(model="aleph-2", seconds=2, remix_of=str(source), seed=5, audio=False), "j")
    assert (call.path, call.json) == (
        "/v1/video_to_video",
        {"model": "aleph2", "promptText": "a lighthouse at dusk", "videoUri": video, "seed": 5},
    )
    call = runway("seedance2_5").build(req(model="seedance-2.5", remix_of=str(source), audio=True), "j")
    assert call.json == {
        "model": "seedance2_5",
        "promptText": "a lighthouse at dusk",
        "promptVideo": video,
        "mode": "edit",
        "duration": "auto",
        "audio": True,
    }  # an edit keeps the clip's frame and length
    extended = runway("seedance2_5").build(req(model="seedance-2.5", extend_video=str(source), seconds=6), "j")
    assert (extended.json["mode"], extended.json["duration"]) == ("extend", 6) and "ratio" not in extended.json
    omni = runway("gemini_omni_flash").build(
        req(model="gemini-omni-1.2-flash", remix_of=str(source), reference_images=(png,)), "j"
    )
    assert omni.json == {
        "model": "gemini_omni_flash",
        "promptText": "a lighthouse at dusk",
        "videoUri": video,
        "references": [{"uri": uri_of(png, "image/png")}],
    }
    for built in (call, extended, omni):
        agrees_with_sdk(built)


# --- catalog, protocol and fake agree -----------------------------------------------------------

FULLY_SERVED = [
    (m, r.model_id)
    for m in load_catalog().models.values()
    for r in m.routes
    if r.protocol == "runway" and m.id != "gemini-omni-1.2-flash"
]  # Omni there: a subset (below)


@pytest.mark.parametrize("model, model_id", FULLY_SERVED, ids=[m.id for m, _ in FULLY_SERVED])
def test_every_size_and_length_the_catalog_offers_builds_and_the_fake_takes_it(model, model_id, tmp_path):
    proto, png, built = runway(model_id), png_file(), 0
    if "remix" in model.requires:  # Aleph: only an edit of a clip, whatever the planned size and length
        agrees_with_sdk(proto.build(req(model=model.id, seconds=1, remix_of=str(clip(tmp_path))), "j"))
        return
    for size in model.all_sizes(with_image=False):
        for seconds in model.allowed_durations(size):
            if "first_frame" not in model.requires:
                agrees_with_sdk(proto.build(req(model=model.id, size=str(size), seconds=seconds), "j"))
                built += 1
    for size in model.all_sizes(with_image=True):
        seconds = model.allowed_durations(size)[-1]
        agrees_with_sdk(proto.build(req(model=model.id, size=str(size), seconds=seconds, first_frame=png), "j"))
        built += 1
    assert built > 0


def test_omni_on_runway_serves_its_subset_and_refuses_the_rest_before_sending(tmp_path):
    proto = runway("gemini_omni_flash")
    for size in ("1280x720", "720x1280"):
        for seconds in range(3, 11):
            agrees_with_sdk(proto.build(req(model="gemini-omni-1.2-flash", size=size, seconds=seconds), "j"))
    with pytest.raises(
        UnsupportedRequest, match=r"cannot make 1920x1080 from text\. Choose one of: 1280x720, 720x1280"
    ):
        proto.build(req(model="gemini-omni-1.2-flash", size="1920x1080"), "j")
    with pytest.raises(UnsupportedRequest, match=r"makes 3-10 s, not 12 s"):
        proto.build(req(model="gemini-omni-1.2-flash", seconds=12), "j")
    png = png_file()
    with pytest.raises(UnsupportedRequest, match="first frame only"):
        proto.build(req(model="gemini-omni-1.2-flash", first_frame=png, last_frame=png), "j")
    with pytest.raises(UnsupportedRequest, match="extends no video"):
        proto.build(req(model="gemini-omni-1.2-flash", extend_video=str(clip(tmp_path))), "j")


# --- refused before anything is sent --------------------------------------------------------------


def test_what_a_model_cannot_take_is_refused_with_the_fix(tmp_path):
    png = png_file()
    with pytest.raises(UnsupportedRequest, match="aleph2 on Runway makes no video from text"):
        runway("aleph2").build(req(model="aleph-2"), "j")
    with pytest.raises(UnsupportedRequest, match="seedance2 on Runway extends no video"):
        runway("seedance2").build(req(extend_video=str(clip(tmp_path))), "j")
    with pytest.raises(UnsupportedRequest, match="reference images or first/last frames, not both"):
        runway("seedance2").build(req(first_frame=png, reference_images=(png,)), "j")
    with pytest.raises(UnsupportedRequest, match="at most 9 reference images"):
        runway("seedance2").build(req(reference_images=(png,) * 10), "j")
    with pytest.raises(UnsupportedRequest, match="happyhorse_1_0 on Runway takes no reference images from text"):
        runway("happyhorse_1_0").build(req(model="happyhorse-1.0", reference_images=(png,)), "j")
    with pytest.raises(UnsupportedRequest, match="aleph2 on Runway takes no reference images with a source clip"):
        runway("aleph2").build(req(model="aleph-2", remix_of=str(clip(tmp_path)), reference_images=(png,)), "j")
    with pytest.raises(UnsupportedRequest, match="neither a video file nor a finished promptreel job"):
        runway("aleph2").build(req(model="aleph-2", remix_of="job-that-never-was"), "j")


def test_an_earlier_take_is_sent_as_its_file_once_it_is_done(tmp_path):
    from promptreel.core.journal import Job

    made = clip(tmp_path)
    job = Job(
        id="j1",
        batch_id="b",
        request={},
        cache_key="k",
        variant=0,
        model="veo-3.1",
        route_key="vertex:veo",
        provider_job_id="op",
        state=JobState.DONE,
        progress=None,
        created_at="",
        updated_at="",
        sent_at=None,
        estimated_cost=0,
        actual_cost=None,
        output_path=str(made),
        media_refs=[],
        cached_from=None,
        error_kind=None,
        error_message=None,
    )
    assert runway("aleph2").earlier_output(job, "remix") == str(made)  # a take of any route: Runway gets the bytes
    with pytest.raises(UnsupportedRequest, match="no finished video on this machine"):
        runway("aleph2").earlier_output(Job(**{**job.__dict__, "state": JobState.RUNNING}), "remix")


# --- the strict fake ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, model_id", [(k, m) for k, models in SCHEMAS.items() for m in models])
def test_the_fake_takes_exactly_the_fields_of_the_sdk_types(kind, model_id):
    schema = SCHEMAS[kind][model_id]
    allowed, required = sdk_fields(kind, model_id)
    assert {name.lstrip("*") for name in schema} | {"model"} == allowed
    assert {name[1:] for name in schema if name.startswith("*")} | {"model"} == required


@pytest.mark.parametrize(
    "kind, body, words",
    [
        ("text_to_video", {"model": "seedance2", "promptText": "a", "negativePrompt": "b"}, "Unrecognized keys"),
        ("text_to_video", {"model": "hailuo3", "promptText": "a", "ratio": "adaptive"}, "'ratio'"),
        ("text_to_video", {"model": "gen4.5", "promptText": "a", "ratio": "1280:720"}, "'duration'"),
        (
            "image_to_video",
            {
                "model": "gen4.5",
                "promptText": "a",
                "ratio": "1280:720",
                "duration": 5,
                "promptImage": [{"uri": "https://x/a.png", "position": "last"}],
            },
            "'promptImage'",
        ),
        ("image_to_video", {"model": "happyhorse_1_0", "promptImage": "data:image/png;base64,AAAA"}, "'promptImage'"),
        (
            "video_to_video",
            {
                "model": "seedance2_5",
                "promptVideo": "https://x/a.mp4",
                "promptText": "a",
                "mode": "edit",
                "duration": 5,
            },
            "duration 'auto'",
        ),
        ("video_to_video", {"model": "gen4.5", "videoUri": "https://x/a.mp4"}, "'model'"),
        ("video_to_video", {"model": "aleph2", "promptText": "a"}, "'videoUri'"),
    ],
)
def test_the_fake_refuses_what_the_sdk_types_do_not_allow(kind, body, words):
    assert words in invalid(kind, body)


async def test_aleph_round_trip_returns_the_clip_edited_at_its_own_frame(fake, client, tmp_path):
    proto = runway("aleph2", client, fake.url)
    source = clip(tmp_path, (720, 1280), 1)
    sub = await proto.submit(proto.build(req(model="aleph-2", seconds=1, remix_of=str(source)), "j"), tmp_path / "s")
    status = await poll_to_end(proto, sub.job_id)
    assert status.state is JobState.SUCCEEDED
    out = tmp_path / "out.mp4"
    await download(client, proto, status.media[0], out, attempts=1)
    assert frame_size(out) == (180, 320)  # portrait in, portrait out (within the fake's small limit)
    assert fake.calls_to("POST", r"/v1/video_to_video")[0].headers["x-runway-version"] == "2024-11-06"


async def test_a_clip_past_5_mb_is_uploaded_first_without_the_key_then_named_by_its_runway_uri(
    fake, client, tmp_path, monkeypatch
):
    import promptreel.core.providers.runway as module

    monkeypatch.setattr(module, "DATA_URI_LIMIT", 1024)  # a small real clip stands for a 5 MB one
    proto = runway("seedance2_5", client, fake.url)
    source = clip(tmp_path, (640, 360), 1)
    call = proto.build(req(model="seedance-2.5", extend_video=str(source), seconds=5), "j")
    assert call.json["promptVideo"] == "upload:clip" and call.files["upload:clip"][1] == source.read_bytes()
    sub = await proto.submit(call, tmp_path / "s")
    assert (await poll_to_end(proto, sub.job_id)).state is JobState.SUCCEEDED
    (asked,) = fake.calls_to("POST", r"/v1/uploads")
    assert asked.json() == {"filename": "source.mp4", "type": "ephemeral"}
    (stored,) = fake.cdn.calls_to("POST", r"/uploads/.+")
    assert "authorization" not in stored.headers and fake.key_leaks() == []
    (created,) = fake.calls_to("POST", r"/v1/video_to_video")
    assert created.json()["promptVideo"].startswith("runway://uploads/")


@pytest.mark.parametrize("fault", ["drop", "500"])
async def test_a_failed_upload_creates_nothing_and_may_be_tried_again(fake, client, tmp_path, monkeypatch, fault):
    import promptreel.core.providers.runway as module
    from promptreel.core.providers.base import ErrorKind, ProviderError

    monkeypatch.setattr(module, "DATA_URI_LIMIT", 1024)
    proto = runway("aleph2", client, fake.url)
    fake.fault("upload", fault)
    with pytest.raises(ProviderError) as e:
        await proto.submit(proto.build(req(model="aleph-2", seconds=1, remix_of=str(clip(tmp_path))), "j"), tmp_path)
    assert e.value.kind is ErrorKind.RETRYABLE and fake.creates == 0
