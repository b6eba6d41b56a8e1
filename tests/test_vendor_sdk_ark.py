"""The ModelArk fake driven by BytePlus's own Python SDK (byteplus-python-sdk-v2, module byteplussdkarkruntime,
pinned in the `test` extra), as tests/test_vendor_sdks.py does for the other routes: Seedance from text and
from first / last frames, a task read the SDK's way (the fake advances a task per read), a queued task
cancelled by the SDK's delete, and the SDK's own errors for what the fake refuses."""

from __future__ import annotations

import base64

import httpx
import pytest
from byteplussdkarkruntime import Ark
from byteplussdkarkruntime._exceptions import ArkAuthenticationError, ArkBadRequestError

from promptreel.core.sandbox import FakeArk, png

READS = 10


@pytest.fixture(scope="module")
def fake():
    with FakeArk() as f:
        yield f


def finished(client: Ark, task_id: str):
    for _ in range(READS):
        task = client.content_generation.tasks.get(task_id=task_id)
        if task.status not in ("queued", "running"):
            return task
    raise AssertionError(f"task {task_id} still {task.status}")


@pytest.mark.parametrize("with_frames", [False, True])
def test_ark_sdk_makes_a_seedance_video_on_the_fake(fake, with_frames):
    fake.reset()
    client = Ark(base_url=fake.base_url, api_key=fake.key, max_retries=0)
    content = [{"type": "text", "text": "a lighthouse at dusk"}]
    if with_frames:
        uri = "data:image/png;base64," + base64.b64encode(png(1280, 720)).decode()
        content += [
            {"type": "image_url", "image_url": {"url": uri}, "role": "first_frame"},
            {"type": "image_url", "image_url": {"url": uri}, "role": "last_frame"},
        ]
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-260128",
        content=content,
        resolution="720p",
        ratio="adaptive" if with_frames else "16:9",
        duration=5,
        generate_audio=True,
        watermark=False,
    )
    task = finished(client, created.id)
    assert task.status == "succeeded" and task.model == "dreamina-seedance-2-0-260128"
    assert task.usage.completion_tokens > 0 and task.framespersecond == 24
    assert httpx.get(task.content.video_url).content[4:8] == b"ftyp" and fake.creates == 1


def test_ark_sdk_cancels_a_queued_task_and_hears_the_fakes_refusals(fake):
    fake.reset()
    client = Ark(base_url=fake.base_url, api_key=fake.key, max_retries=0)
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-fast-260128",
        content=[{"type": "text", "text": "a fox in snow"}],
        resolution="480p",
        ratio="9:16",
        duration=4,
    )
    client.content_generation.tasks.delete(created.id)
    assert client.content_generation.tasks.get(task_id=created.id).status == "cancelled"
    with pytest.raises(ArkBadRequestError) as refused:  # Fast stops at 720p
        client.content_generation.tasks.create(
            model="dreamina-seedance-2-0-fast-260128", content=[{"type": "text", "text": "p"}], resolution="1080p"
        )
    assert refused.value.code == "InvalidParameter"
    with pytest.raises(ArkAuthenticationError):
        Ark(base_url=fake.base_url, api_key="ark-wrong-key-000000000", max_retries=0).content_generation.tasks.get(
            task_id=created.id
        )
