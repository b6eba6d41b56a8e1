"""The DashScope fake driven by Alibaba's own Python SDK (dashscope, pinned in the `test` extra), as
tests/test_vendor_sdks.py does for the other routes: Wan 2.7 from text (wan2.7-t2v) and from a first frame
(wan2.7-i2v, the SDK's `media` list), the task read with the SDK's fetch (not its sleeping wait: the fake
advances a task per read), a pending task cancelled, and the SDK's view of the fake's refusals."""

from __future__ import annotations

import base64
from http import HTTPStatus

import dashscope
import httpx
import pytest
from dashscope import VideoSynthesis

from promptreel.core.sandbox import FakeDashScope, png

READS = 10


@pytest.fixture(scope="module")
def fake():
    with FakeDashScope() as f:
        yield f


@pytest.fixture
def sdk(fake, monkeypatch):
    fake.reset()
    monkeypatch.setattr(dashscope, "base_http_api_url", fake.base_url)  # what DASHSCOPE_HTTP_BASE_URL sets
    return fake


def finished(task, key: str):
    for _ in range(READS):
        read = VideoSynthesis.fetch(task, api_key=key)
        assert read.status_code == HTTPStatus.OK
        if read.output.task_status not in ("PENDING", "RUNNING"):
            return read
    raise AssertionError(f"task still {read.output.task_status}")


@pytest.mark.parametrize("with_frame", [False, True])
def test_dashscope_sdk_makes_a_wan_video_on_the_fake(sdk, with_frame):
    if with_frame:
        uri = "data:image/png;base64," + base64.b64encode(png(720, 1280)).decode()
        task = VideoSynthesis.async_call(
            model="wan2.7-i2v",
            prompt="the boat drifts",
            api_key=sdk.key,
            media=[{"type": VideoSynthesis.MediaType.FIRST_FRAME, "url": uri}],
            resolution="720P",
            duration=5,
            seed=3,
        )
    else:
        task = VideoSynthesis.async_call(
            model="wan2.7-t2v",
            prompt="a paper boat on a canal",
            api_key=sdk.key,
            resolution="1080P",
            ratio="16:9",
            duration=5,
            prompt_extend=False,
            watermark=False,
            audio=True,
            negative_prompt="people",
        )
    assert task.status_code == HTTPStatus.OK and task.output.task_status == "PENDING"
    done = finished(task, sdk.key)
    assert done.output.task_status == "SUCCEEDED" and done.usage.video_count == 1 and done.usage.video_duration == 5
    assert httpx.get(done.output.video_url).content[4:8] == b"ftyp" and sdk.creates == 1
    (job,) = sdk.jobs.values()
    assert (job.spec.width, job.spec.height) == ((720, 1280) if with_frame else (1920, 1080))


def test_dashscope_sdk_cancels_a_pending_task_and_hears_the_fakes_refusals(sdk):
    task = VideoSynthesis.async_call(
        model="wan2.7-t2v", prompt="a kite", api_key=sdk.key, resolution="720P", ratio="1:1", duration=2
    )
    assert VideoSynthesis.cancel(task, api_key=sdk.key).status_code == HTTPStatus.OK
    assert VideoSynthesis.fetch(task, api_key=sdk.key).output.task_status == "CANCELED"
    refused = VideoSynthesis.async_call(model="wan2.7-t2v", prompt="a kite", api_key=sdk.key, resolution="4K")
    assert (refused.status_code, refused.code) == (HTTPStatus.BAD_REQUEST, "InvalidParameter")
    wrong = VideoSynthesis.async_call(model="wan2.7-t2v", prompt="a kite", api_key="sk-wrong-key-0000000000")
    assert (wrong.status_code, wrong.code) == (HTTPStatus.UNAUTHORIZED, "InvalidApiKey")
