"""The comfyui route: template filling, the 8k+1 frame rule, and the four verbs against a fake
ComfyUI on loopback that validates every workflow it is sent, with its faults."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from promptreel.core.catalog import Route, load_catalog
from promptreel.core.conform.probe import probe
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.providers import protocol_class
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.comfyui import ComfyUI, HistoryEntry, derived_seed, ltx_frames, rejection_message
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import FakeComfyUI

GOLDEN = Path(__file__).parent / "golden" / "comfyui_ltx_video_t2v.json"
ROUTE = Route(protocol="comfyui", model_id="ltx_video_t2v")
SHIPPED = Path(__file__).parents[1] / "core" / "data" / "comfyui" / "ltx_video_t2v.json"
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def req(**kw) -> GenerationRequest:
    base = dict(prompt="a lighthouse at dusk, waves", model="ltx-video-local", seconds=1, fps=24, size="320x192")
    return GenerationRequest(**{**base, **kw})


def comfy(client=None, base_url=None, workflow=SHIPPED) -> ComfyUI:
    return ComfyUI(client or httpx.AsyncClient(), ROUTE, {}, base_url=base_url, workflow=workflow)


def write(tmp_path: Path, workflow: dict) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(workflow))
    return path


@pytest.fixture
def fake():
    with FakeComfyUI() as server:
        yield server


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as c:
        yield c


# --- frames and template filling ---------------------------------------------------------------


def test_frame_count_is_the_smallest_8k_plus_1_that_covers():
    assert [ltx_frames(n) for n in (1, 2, 8, 9, 10, 16, 17, 24, 120, 121, 122)] == [
        1,
        9,
        9,
        9,
        17,
        17,
        17,
        25,
        121,
        121,
        129,
    ]
    for n in range(1, 400):
        f = ltx_frames(n)
        assert f >= n and (f - 1) % 8 == 0 and f - 8 < n


def test_request_length_becomes_8k_plus_1_frames():
    c = comfy()
    assert c.values(req(seconds=5, fps=24), "j")["frames"] == 121  # 120 needed
    assert c.values(req(seconds=2, fps=25), "j")["frames"] == 57  # 50 needed
    assert c.values(req(seconds=None, frames=48, fps="24000/1001"), "j")["frames"] == 49
    assert c.values(req(seconds=None, frames=48, fps="24000/1001"), "j")["fps"] == pytest.approx(23.976, abs=1e-3)
    with pytest.raises(UnsupportedRequest):
        c.values(req(seconds=None), "j")


def test_shipped_template_filled_golden():
    request = req(seconds=5, fps=24, size="768x512", seed=42, negative_prompt="text, watermark")
    call = comfy().build(request, "job-0001")
    assert (call.method, call.path) == ("POST", "/prompt")
    assert call.json == json.loads(GOLDEN.read_text())


def test_typed_values_defaults_and_text_placeholders():
    call = comfy().build(req(fps=25), "job-7")
    wf = call.json["prompt"]
    assert call.json["client_id"] == "job-7"
    assert wf["6"]["inputs"] == {"width": 320, "height": 192, "length": 25, "batch_size": 1}
    assert wf["5"]["inputs"]["frame_rate"] == 25 and wf["13"]["inputs"]["fps"] == 25
    assert wf["9"]["inputs"]["noise_seed"] == derived_seed("job-7")  # no seed given: fixed per job
    assert wf["4"]["inputs"]["text"].startswith("worst quality")  # the template's default negative prompt
    assert wf["14"]["inputs"]["filename_prefix"] == "promptreel/job-7"
    prompt = "a sign reading {{seed}} and {braces}"
    assert comfy().build(req(prompt=prompt), "j").json["prompt"]["3"]["inputs"]["text"] == prompt  # never re-scanned


def test_template_missing_a_needed_placeholder_is_refused_by_name(tmp_path):
    wf = json.loads(SHIPPED.read_text())
    wf["6"]["inputs"]["length"] = 97
    with pytest.raises(BadInput, match=r"no \{\{frames\}\} placeholder"):
        comfy(workflow=write(tmp_path, wf)).build(req(), "j")
    wf = json.loads(SHIPPED.read_text())
    wf["9"]["inputs"]["noise_seed"] = 7
    c = comfy(workflow=write(tmp_path, wf))
    c.build(req(), "j")  # no seed asked: a fixed seed in the workflow is the user's choice
    with pytest.raises(BadInput, match=r"\{\{seed\}\}"):
        c.build(req(seed=3), "j")


@pytest.mark.parametrize(
    "content, match",
    [
        ('{"1": {"class_type": "X", "inputs": {"a": "{{promt}}"}}}', r"\{\{promt\}\}.*Use one of"),
        ('{"last_node_id": 3, "nodes": []}', "API format"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_templates_are_refused_clearly(tmp_path, content, match):
    path = tmp_path / "wf.json"
    path.write_text(content)
    with pytest.raises(BadInput, match=match):
        comfy(workflow=path).build(req(), "j")


def test_missing_template_and_settings_override(tmp_path, monkeypatch):
    with pytest.raises(BadInput, match="does not exist"):
        comfy(workflow=tmp_path / "nope.json").build(req(), "j")
    mine = json.loads(SHIPPED.read_text())
    mine["7"]["inputs"]["steps"] = 8
    path = write(tmp_path, mine)
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path))
    (tmp_path / "settings.toml").write_text(f"comfyui_workflow = {json.dumps(str(path))}\n")
    assert ComfyUI(httpx.AsyncClient(), ROUTE, {}).build(req(), "j").json["prompt"]["7"]["inputs"]["steps"] == 8
    (tmp_path / "settings.toml").write_text("")
    assert ComfyUI(httpx.AsyncClient(), ROUTE, {}).build(req(), "j").json["prompt"]["7"]["inputs"]["steps"] == 30


def test_catalog_entry_and_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTREEL_HOME", str(tmp_path))  # no settings file: the route's own template
    model = load_catalog().get("ltx-video-local")
    assert [r.protocol for r in model.routes] == ["comfyui"] and model.price_per_second(None) == 0.0
    assert all(s.width % 32 == 0 and s.height % 32 == 0 for s in model.all_sizes())
    assert protocol_class("comfyui") is ComfyUI
    ComfyUI(httpx.AsyncClient(), model.routes[0], {}, workflow=None).build(req(), "j")  # shipped template resolves


def test_history_entries_of_other_nodes_and_older_servers():
    c = comfy(base_url="http://gpu-box:8188")
    entry = HistoryEntry.model_validate(
        {
            "outputs": {  # no "status": ComfyUI before it reported one
                "20": {"images": [{"filename": "still_00001_.png", "subfolder": "", "type": "output"}]},
                "21": {
                    "gifs": [
                        {"filename": "preview_00001.mp4", "subfolder": "", "type": "temp", "format": "video/h264-mp4"}
                    ]
                },
                "22": {"gifs": [{"filename": "AnimateDiff_00001.mp4", "subfolder": "vhs", "type": "output"}]},
            }
        }
    )
    status = c.status_of(entry)
    assert status.state is JobState.SUCCEEDED
    assert [m.url for m in status.media] == [
        "http://gpu-box:8188/view?filename=AnimateDiff_00001.mp4&subfolder=vhs&type=output",  # saved before previews
        "http://gpu-box:8188/view?filename=preview_00001.mp4&subfolder=&type=temp",
    ]
    interrupted = HistoryEntry.model_validate(
        {
            "outputs": {},
            "status": {
                "status_str": "error",
                "completed": False,
                "messages": [["execution_interrupted", {"node_id": "11"}]],
            },
        }
    )
    assert c.status_of(interrupted).state is JobState.CANCELED
    # Older servers answer an unknown node with an empty list of node errors.
    assert "node Foo does not exist" in rejection_message(
        {
            "error": {
                "type": "invalid_prompt",
                "message": ("Cannot execute because node Foo does not exist."),
                "details": "Node ID '#3'",
            },
            "node_errors": [],
        }
    )


# --- against the fake server ------------------------------------------------------------------


async def test_round_trip_submit_poll_download(fake, client, tmp_path):
    c = comfy(client, fake.url)
    call = c.build(req(seconds=1, fps=24, seed=5), "job-rt")
    sub = await c.submit(call, tmp_path)
    assert sub.job_id in fake.jobs and fake.creates == 1
    states = []
    while not states or states[-1].state not in (JobState.SUCCEEDED, JobState.FAILED):
        states.append(await c.poll(sub.job_id))
        assert len(states) < 10
    assert [s.state for s in states] == [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED]
    url, headers = c.media_request(states[-1].media[0])
    assert url.startswith(f"{fake.url}/view?filename=job-rt_00001_.mp4&subfolder=promptreel&type=output")
    assert headers == {}
    r = await client.get(url, headers=headers)
    assert r.status_code == 200
    out = tmp_path / "clip.mp4"
    out.write_bytes(r.content)
    info = probe(out)
    assert (info.width, info.height, info.rate, info.frames) == (320, 192, Fraction(24), 25)  # 24 needed -> 25


async def test_template_bug_is_a_bad_request_naming_the_node(fake, client, tmp_path):
    wf = json.loads(SHIPPED.read_text())
    wf["10"]["inputs"]["positive"] = ["6", 0]  # a LATENT where CONDITIONING belongs
    wf["6"]["inputs"]["batch_size"] = "1"  # a string where an INT belongs
    call = comfy(client, fake.url, workflow=write(tmp_path, wf)).build(req(), "j")
    with pytest.raises(ProviderError) as e:
        await comfy(client, fake.url).submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST and e.value.status == 400
    assert "node 10 (CFGGuider)" in e.value.message and "node 6 (EmptyLTXVLatentVideo)" in e.value.message
    assert fake.creates == 0


async def test_missing_model_file_is_a_bad_request(fake, client, tmp_path):
    c = comfy(client, fake.url)
    call = c.build(req(), "j")
    call.headers["X-Fake-Fault"] = "node_errors"
    with pytest.raises(ProviderError) as e:
        await c.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST
    assert "node 1 (CheckpointLoaderSimple)" in e.value.message and "ltx-video-2b-v0.9.5.safetensors" in e.value.message
    assert not e.value.retryable


async def test_unknown_node_class_is_a_bad_request(fake, client, tmp_path):
    wf = json.loads(SHIPPED.read_text())
    wf["15"] = {"class_type": "VHS_VideoCombine", "inputs": {}}
    c = comfy(client, fake.url, workflow=write(tmp_path, wf))
    with pytest.raises(ProviderError) as e:
        await c.submit(c.build(req(), "j"), tmp_path)
    assert e.value.kind is ErrorKind.BAD_REQUEST and "VHS_VideoCombine does not exist" in e.value.message


async def run_to_end(c: ComfyUI, job_id: str):
    for _ in range(10):
        status = await c.poll(job_id)
        if status.state.terminal or status.state is JobState.SUCCEEDED:
            return status
    raise AssertionError("never finished")


async def run(c: ComfyUI, fake_fault: str, tmp_path):
    call = c.build(req(), "job-f")
    call.headers["X-Fake-Fault"] = fake_fault
    sub = await c.submit(call, tmp_path)
    return sub.job_id, await run_to_end(c, sub.job_id)


async def test_execution_error_fails_with_the_node_and_exception(fake, client, tmp_path):
    _, status = await run(comfy(client, fake.url), "execution_error", tmp_path)
    assert status.state is JobState.FAILED and status.error.kind is ErrorKind.PROVIDER
    assert "node 11 (SamplerCustomAdvanced)" in status.error.message and "OutOfMemoryError" in status.error.message


async def test_success_without_a_video_is_a_failure(fake, client, tmp_path):
    _, status = await run(comfy(client, fake.url), "no_outputs", tmp_path)
    assert status.state is JobState.FAILED and "saved no video" in status.error.message
    wf = json.loads(SHIPPED.read_text())  # a workflow that saves stills only
    wf["14"] = {"class_type": "SaveImage", "inputs": {"images": ["12", 0], "filename_prefix": "{{job}}"}}
    del wf["13"]
    _, status = await run(comfy(client, fake.url, workflow=write(tmp_path, wf)), "", tmp_path)
    assert status.state is JobState.FAILED and "saved no video" in status.error.message


async def test_truncated_download_is_an_error_and_resumes(fake, client, tmp_path):
    c = comfy(client, fake.url)
    _, status = await run(c, "truncate_view", tmp_path)
    url, headers = c.media_request(status.media[0])
    got = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):  # a short body is never taken for a whole file
        async with client.stream("GET", url, headers=headers) as r:
            async for chunk in r.aiter_raw():
                got += chunk
    assert got
    r = await client.get(url, headers={**headers, "Range": f"bytes={len(got)}-"})
    assert r.status_code == 206
    out = tmp_path / "resumed.mp4"
    out.write_bytes(bytes(got) + r.content)
    assert probe(out).frames == 25 and fake.creates == 1  # the download was retried, not the generation


async def test_server_not_running_is_retryable_and_says_start_comfyui(client, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    c = comfy(client, url)
    for attempt in (c.submit(c.build(req(), "j"), tmp_path), c.poll("p"), c.find_created(None, "j", NOW)):
        with pytest.raises(ProviderError) as e:
            await attempt
        assert e.value.kind is ErrorKind.RETRYABLE
        assert "Start ComfyUI" in e.value.message and url in e.value.message


async def test_restarted_server_forgot_the_prompt(fake, client, tmp_path):
    c = comfy(client, fake.url)
    sub = await c.submit(c.build(req(), "j"), tmp_path)
    fake.restart()
    status = await c.poll(sub.job_id)
    assert status.state is JobState.FAILED and status.error.retryable and "restarted" in status.error.message


async def test_server_error_is_retryable(fake, client, tmp_path):
    c = comfy(client, fake.url)
    call = c.build(req(), "j")
    call.headers["X-Fake-Fault"] = "server_error"
    with pytest.raises(ProviderError) as e:
        await c.submit(call, tmp_path)
    assert e.value.kind is ErrorKind.RETRYABLE and e.value.status == 500 and fake.creates == 0


async def test_lost_create_is_found_by_client_id_without_resending(fake, client, tmp_path):
    c = comfy(client, fake.url)
    call = c.build(req(), "job-lost")
    call.headers["X-Fake-Fault"] = "drop"
    with pytest.raises(httpx.TransportError):  # the answer is lost: not a ProviderError, the engine reconciles
        await c.submit(call, tmp_path)
    other = await c.submit(c.build(req(), "job-other"), tmp_path)
    [lost] = [pid for pid, j in fake.jobs.items() if j.extra_data["client_id"] == "job-lost"]
    assert await c.find_created(call, "job-lost", NOW) == lost  # while pending, from /queue
    assert await c.find_created(call, "job-never-sent", NOW) is None
    assert (await run_to_end(c, lost)).state is JobState.SUCCEEDED
    assert await c.find_created(call, "job-lost", NOW) == lost  # once finished, from /history
    assert other.job_id != lost and fake.creates == 2
    assert fake.server.calls_to("GET", "/history")[-1].query == {"max_items": ["500"]}


async def test_cancel_pending_and_running(fake, client, tmp_path):
    c = comfy(client, fake.url)
    pending = await c.submit(c.build(req(), "a"), tmp_path)
    await c.cancel(pending.job_id)
    assert pending.job_id not in fake.jobs
    running = await c.submit(c.build(req(), "b"), tmp_path)
    assert (await c.poll(running.job_id)).state is JobState.QUEUED
    assert (await c.poll(running.job_id)).state is JobState.RUNNING
    await c.cancel(running.job_id)
    assert (await c.poll(running.job_id)).state is JobState.CANCELED
    assert [call.json() for call in fake.server.calls_to("POST", "/interrupt")] == [{"prompt_id": running.job_id}]


async def test_garbled_create_answer_is_reconciled_not_resent(fake, client, tmp_path):
    c = comfy(client, fake.url)
    call = c.build(req(), "job-g")
    call.headers["X-Fake-Fault"] = "garbled"
    sub = await c.submit(call, tmp_path)
    assert fake.jobs[sub.job_id].extra_data["client_id"] == "job-g" and fake.creates == 1


async def test_basic_auth_in_the_url_is_a_header_never_shown_or_stored(client, tmp_path):
    with FakeComfyUI(basic_auth=("studio", "s3cret-pass")) as fake:
        host = fake.url.removeprefix("http://")
        c = comfy(client, f"http://studio:s3cret-pass@{host}")
        sub = await c.submit(c.build(req(), "j"), tmp_path)
        status = await run_to_end(c, sub.job_id)
        url, headers = c.media_request(status.media[0])
        assert "s3cret" not in url and (await client.get(url, headers=headers, auth=c.auth)).status_code == 200
        with pytest.raises(ProviderError) as e:
            await comfy(client, fake.url).poll(sub.job_id)
        assert e.value.kind is ErrorKind.AUTH and not e.value.retryable
        fake.restart()
        status = await c.poll(sub.job_id)
        assert "s3cret" not in status.error.message and host in status.error.message
