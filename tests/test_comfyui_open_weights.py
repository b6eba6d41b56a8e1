"""Wan 2.2 TI2V-5B and LTX-2 on the comfyui route: each shipped workflow (text, and first frame) is
chosen by the catalog's model id, filled, uploaded and run by the strict ComfyUI fake, and fills
OTIO-style slots frame-exact through the real engine."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.errors import BadInput
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.comfyui import ComfyUI, fill_name, frame_step, load_template, template_path
from promptreel.core.request import GenerationRequest, Slot
from promptreel.core.sandbox import SMALL, FakeComfyUI, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at

SHIPPED = Path(__file__).parents[1] / "core" / "data" / "comfyui"
WAN, LTX2 = "wan-2.2-5b-local", "ltx-2-local"
WORKFLOWS = ["wan2_2_ti2v_5b_t2v", "wan2_2_ti2v_5b_i2v", "ltx2_t2v", "ltx2_i2v"]


def route(model: str):
    return load_catalog().get(model).routes[0]


def comfy(model: str, client=None, base_url=None, workflow=None) -> ComfyUI:
    c = ComfyUI(client or httpx.AsyncClient(), route(model), {}, base_url=base_url, workflow=workflow)
    c.workflow = workflow  # the shipped workflow, whatever the developer's settings say
    return c


def req(model: str, **kw) -> GenerationRequest:
    base = dict(prompt="rain on a tin roof, a cat watching", model=model, seconds=1, fps=24, size="320x192", seed=7)
    return GenerationRequest(**{**base, **kw})


def nodes_of(call, class_type: str) -> list[dict]:
    return [n["inputs"] for n in call.json["prompt"].values() if n["class_type"] == class_type]


@pytest.fixture
def fake():
    with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


async def finish(c: ComfyUI, job_id: str):
    for _ in range(10):
        status = await c.poll(job_id)
        if status.state.terminal or status.state is JobState.SUCCEEDED:
            return status
    raise AssertionError("never finished")


async def render(c: ComfyUI, client, call, tmp_path):
    sub = await c.submit(call, tmp_path)
    status = await finish(c, sub.job_id)
    assert status.state is JobState.SUCCEEDED, status.error
    url, headers = c.media_request(status.media[0])
    r = await client.get(url, headers=headers)
    assert r.status_code == 200
    out = tmp_path / f"{sub.job_id}.mp4"
    out.write_bytes(r.content)
    return probe(out)


# --- choosing and filling the workflows ---------------------------------------------------------


def test_model_id_selects_the_workflow_and_a_first_frame_its_i2v_sibling():
    assert (route(WAN).model_id, route(LTX2).model_id) == ("wan2_2_ti2v_5b_t2v", "ltx2_t2v")
    assert Path(str(template_path(route(WAN)))).name == "wan2_2_ti2v_5b_t2v.json"
    assert Path(str(template_path(route(WAN), first_frame=True))).name == "wan2_2_ti2v_5b_i2v.json"
    assert Path(str(template_path(route(LTX2), first_frame=True))).name == "ltx2_i2v.json"
    for name in WORKFLOWS:  # every shipped workflow is in ComfyUI's API format
        load_template(SHIPPED / f"{name}.json")


def test_wan_asks_for_4k_plus_1_frames_and_ltx2_for_8k_plus_1():
    assert [frame_step(load_template(SHIPPED / f"{n}.json")) for n in WORKFLOWS] == [4, 4, 8, 8]
    wan = comfy(WAN).build(req(WAN, seconds=None, frames=26), "j")  # 26 needed
    ltx = comfy(LTX2).build(req(LTX2, seconds=None, frames=26), "j")
    assert nodes_of(wan, "Wan22ImageToVideoLatent")[0]["length"] == 29
    assert nodes_of(ltx, "EmptyLTXVLatentVideo")[0]["length"] == 33
    assert nodes_of(ltx, "LTXVEmptyLatentAudio")[0]["frames_number"] == 33  # the sound as long as the picture
    five = comfy(WAN).build(req(WAN, seconds=5, size="1280x704"), "j")
    assert nodes_of(five, "Wan22ImageToVideoLatent")[0] == {
        "vae": ["3", 0],
        "width": 1280,
        "height": 704,
        "length": 121,
        "batch_size": 1,
    }


def test_text_requests_carry_no_image_and_first_frames_ride_as_an_upload(tmp_path):
    for model in (WAN, LTX2):
        assert comfy(model).build(req(model), "j").files is None
        assert nodes_of(comfy(model).build(req(model), "j"), "LoadImage") == []
        frame = still(tmp_path, 320, 192)
        call = comfy(model).build(req(model, first_frame=frame), "j")
        ((name, data, mime),) = call.files.values()
        assert data == frame.read_bytes() and mime == "image/png"
        assert name.startswith("promptreel-") and name.endswith(".png")
        assert nodes_of(call, "LoadImage") == [{"image": name}]
        # the same image is the same name, so a resent create uploads nothing new
        assert comfy(model).build(req(model, first_frame=frame), "k").files["image"][0] == name


def test_a_workflow_that_loads_a_first_frame_needs_one(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text((SHIPPED / "wan2_2_ti2v_5b_i2v.json").read_text())
    with pytest.raises(BadInput, match=r"loads a first frame .*request has none"):
        comfy(WAN, workflow=path).build(req(WAN), "j")
    with pytest.raises(BadInput, match=r"no \{\{first_frame\}\} placeholder"):  # a text-only workflow of the user's
        mine = tmp_path / "t2v.json"
        mine.write_text((SHIPPED / "wan2_2_ti2v_5b_t2v.json").read_text())
        comfy(WAN, workflow=mine).build(req(WAN, first_frame=still(tmp_path, 64, 64)), "j")
    with pytest.raises(BadInput, match="Cannot read the first frame"):
        comfy(WAN).build(req(WAN, first_frame=tmp_path / "missing.png"), "j")


def test_a_renamed_upload_is_what_load_image_reads():
    wf = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a.png is a file"}},
    }
    out = fill_name(wf, "a.png", "a (1).png")
    assert out["1"]["inputs"]["image"] == "a (1).png" and out["2"]["inputs"]["text"] == "a.png is a file"


# --- against the strict fake ---------------------------------------------------------------------


async def test_wan_text_to_video_round_trip(fake, client, tmp_path):
    c = comfy(WAN, client, fake.url)
    info = await render(c, client, c.build(req(WAN), "job-wan"), tmp_path)
    assert (info.width, info.height, info.rate, info.frames) == (320, 192, Fraction(24), 25)
    assert not info.has_audio and fake.uploads == [] and fake.creates == 1


async def test_wan_first_frame_is_uploaded_then_loaded(fake, client, tmp_path):
    c = comfy(WAN, client, fake.url)
    call = c.build(req(WAN, first_frame=still(tmp_path, 320, 192)), "job-wan-i2v")
    info = await render(c, client, call, tmp_path)
    assert fake.uploads == [call.files["image"][0]]
    assert fake.files[("input", "", call.files["image"][0])] == call.files["image"][1]
    (upload,) = fake.server.calls_to("POST", "/upload/image")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert (info.width, info.height, info.frames) == (320, 192, 25)


async def test_ltx2_makes_picture_and_sound(fake, client, tmp_path):
    c = comfy(LTX2, client, fake.url)
    info = await render(c, client, c.build(req(LTX2, seconds=2, fps=25), "job-ltx2"), tmp_path)
    assert (info.width, info.height, info.rate, info.frames) == (320, 192, Fraction(25), 57)  # 50 needed
    assert info.has_audio


async def test_ltx2_first_frame_is_uploaded_then_loaded(fake, client, tmp_path):
    c = comfy(LTX2, client, fake.url)
    call = c.build(req(LTX2, first_frame=still(tmp_path, 320, 192)), "job-ltx2-i2v")
    info = await render(c, client, call, tmp_path)
    assert fake.uploads == [call.files["image"][0]] and info.has_audio and info.frames == 25


@pytest.mark.parametrize(
    "model", [m for m in load_catalog().models.values() if m.routes[0].protocol == "comfyui"], ids=lambda m: m.id
)
async def test_every_catalog_size_rate_and_length_is_accepted_by_the_fake(model, fake, client, tmp_path):
    """The catalog and the strict fake agree: each offered size is the nodes' own (a multiple of 32, so
    nothing is cut), and the shortest and longest take at every rate passes validation."""
    c = comfy(model.id, client, fake.url)
    for size in model.all_sizes():
        assert size.width % 32 == 0 and size.height % 32 == 0, size
        for fps in model.fps:
            for seconds in (model.allowed_durations(size)[0], model.allowed_durations(size)[-1]):
                await c.submit(c.build(req(model.id, size=str(size), fps=fps, seconds=seconds), "j"), tmp_path)
    assert fake.creates == len(model.all_sizes()) * len(model.fps) * 2


async def test_a_first_frame_that_was_never_uploaded_is_refused(fake, client, tmp_path):
    c = comfy(WAN, client, fake.url)
    call = c.build(req(WAN, first_frame=still(tmp_path, 320, 192)), "j")
    call.files = None  # the prompt alone: LoadImage names a file ComfyUI does not have
    with pytest.raises(ProviderError) as e:
        await c.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST and "(LoadImage)" in e.value.message
    assert "Invalid image file" in e.value.message and fake.creates == 0


@pytest.mark.parametrize("name", WORKFLOWS)
async def test_the_fake_refuses_an_unknown_node_or_a_wrong_input_in_each_workflow(fake, client, tmp_path, name):
    model = WAN if name.startswith("wan") else LTX2
    frame = still(tmp_path, 320, 192) if name.endswith("i2v") else None
    c = comfy(model, client, fake.url)
    good = c.build(req(model, first_frame=frame), "j")
    latent = next(
        nid
        for nid, n in good.json["prompt"].items()
        if n["class_type"] in ("Wan22ImageToVideoLatent", "EmptyLTXVLatentVideo")
    )
    cases = {
        "does not exist": lambda wf: wf.update({"99": {"class_type": "WanVideoSampler", "inputs": {}}}),
        "Failed to convert an input value to a INT": lambda wf: wf[latent]["inputs"].update(batch_size="1"),
        "Return type mismatch": lambda wf: wf[latent]["inputs"].update(width=[latent, 0]),
    }
    for expected, spoil in cases.items():
        workflow = json.loads(json.dumps(good.json["prompt"]))
        spoil(workflow)
        bad = type(good)(good.method, good.path, json={**good.json, "prompt": workflow}, files=good.files)
        with pytest.raises(ProviderError) as e:
            await c.submit(bad, tmp_path)
        assert e.value.kind is ErrorKind.BAD_REQUEST and expected in e.value.message, e.value.message
    assert fake.creates == 0
    await render(c, client, good, tmp_path)  # and the workflow as shipped runs


async def test_missing_model_files_and_out_of_memory_name_the_wan_nodes(fake, client, tmp_path):
    c = comfy(WAN, client, fake.url)
    call = c.build(req(WAN), "j")
    call.headers["X-Fake-Fault"] = "node_errors"
    with pytest.raises(ProviderError) as e:
        await c.submit(call, tmp_path)
    assert "(UNETLoader)" in e.value.message and "wan2.2_ti2v_5B_fp16.safetensors" in e.value.message
    assert "(VAELoader)" in e.value.message and "(CLIPLoader)" in e.value.message
    call = c.build(req(WAN), "j2")
    call.headers["X-Fake-Fault"] = "execution_error"
    status = await finish(c, (await c.submit(call, tmp_path)).job_id)
    assert status.state is JobState.FAILED and "(KSampler)" in status.error.message


# --- through the engine: slots filled frame-exact ------------------------------------------------


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["comfyui"], limit=SMALL) as env:
        yield env


def test_fill_conforms_wan_and_ltx2_takes_frame_exact(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    frame = still(tmp_path, 320, 176, "first")
    slots = [
        Slot(
            frames=20, rate=Fraction(24000, 1001), size="320x180", prompt="a kite over dunes", model=WAN, name="SH010"
        ),
        Slot(
            frames=17,
            rate=Fraction(25),
            size="180x320",
            prompt="a paper boat on a canal",
            model=WAN,
            first_frame=frame,
            name="SH020",
        ),
        Slot(frames=31, rate=Fraction(50), size="320x180", prompt="a brass band tuning up", model=LTX2, name="SH030"),
        Slot(
            frames=12,
            rate=Fraction(24),
            size="320x180",
            prompt="a door creaks open",
            model=LTX2,
            first_frame=frame,
            name="SH040",
        ),
    ]
    fill_exact(isolated_home, slots)
    fake = fakes.fakes["comfyui"]
    sent = [c.json()["prompt"] for c in fake.calls_to("POST", "/prompt")]
    classes = [{n["class_type"] for n in wf.values()} for wf in sent]
    assert (
        sum("Wan22ImageToVideoLatent" in c for c in classes) == 2
        and sum("LTXVConcatAVLatent" in c for c in classes) == 2
    )
    assert sum("LoadImage" in c for c in classes) == 2 and len(fake.uploads) == 2 and fake.creates == 4
