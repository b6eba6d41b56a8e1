"""A take remembers the structured prompt it was built from, so promote words it again for the final
model's family: end to end through the CLI, a real OTIO file and the sandbox fakes (what each fake
received), and the rules themselves (free text wins, older takes without a spec keep working)."""

import json

import opentimelineio as otio
import pytest
from otio_helpers import write_cut

from promptreel.core.catalog import default_catalog
from promptreel.core.errors import UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.made import MadeClip, Provenance
from promptreel.core.prompts.compose import PromptSpec, compose
from promptreel.core.prompts.templates import TemplateStore, new_template
from promptreel.core.request import Slot
from promptreel.core.sandbox.run import sandbox
from promptreel.core.takes import get_take, list_takes, promote_slot, record_takes
from tests.test_otio_takes import run

RATE = 24
pytestmark = pytest.mark.usefixtures("no_poll_waits")  # conftest: the CLI's engine without poll waits
FIELDS = {
    "subject": "a fisherman",
    "action": "casts a net",
    "location": "a pier at dusk",
    "mood": "quiet melancholy",
    "camera_movement": "slow push in",
}


def built(model: str, spec: PromptSpec) -> str:
    return compose(default_catalog().get(model), spec).text


@pytest.fixture
def fields_cut(tmp_path):
    """A 20-frame offline clip SH010 at 24 fps whose prompt is shot fields only (no free text)."""
    clip = otio.schema.Clip(
        name="SH010",
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(20, RATE)),
    )
    clip.metadata["promptreel"] = {"fields": FIELDS}
    return write_cut(tmp_path / "cut.otio", [clip], RATE)


def test_a_veo_worded_take_promoted_to_runway_sends_runways_order(tmp_path, fields_cut, capsys):
    spec = PromptSpec(fields=FIELDS)
    veo, runway = built("veo-3.1-fast", spec), built("gen-4.5", spec)
    assert veo != runway  # the two families order the same fields differently

    with sandbox(routes=["vertex"], export=True) as env:
        code, _, err = run(
            capsys, "fill", fields_cut, "-o", tmp_path / "veo.otio", "--model", "veo-3.1-fast", "--codec", "h264"
        )
        assert code == 0, err
        (create,) = env.fakes["vertex"].calls_to("POST", r".+:predictLongRunning")
    assert create.json()["instances"][0]["prompt"] == veo
    (take,) = list_takes(Journal.open_default(), shot="SH010")
    assert take.slot.spec == spec and take.prompt == veo

    with sandbox(routes=["runway"], export=True) as env:
        code, out, err = run(
            capsys,
            "promote",
            take.id,
            "--model",
            "gen-4.5",
            "--timeline",
            tmp_path / "veo.otio",
            "-o",
            tmp_path / "final.otio",
            "--codec",
            "h264",
            "--json",
        )
        assert code == 0, err
        (create,) = env.fakes["runway"].calls_to("POST", r"/v1/text_to_video")
    assert create.json()["promptText"] == runway
    final = get_take(Journal.open_default(), json.loads(out)["take"]["id"])
    assert (final.model, final.prompt, final.slot.spec) == ("gen-4.5", runway, spec)
    clip = otio.adapters.read_from_file(str(tmp_path / "final.otio")).tracks[0][0]
    assert clip.metadata["promptreel"]["model"] == "gen-4.5"


def _take(slot: Slot) -> str:
    journal = Journal.open_default()
    group = record_takes(journal, "SH020", [MadeClip(slot, slot.first_frame, Provenance(model=slot.model))], "fill")
    return list_takes(journal, group=group)[0].id


def test_free_text_and_older_takes_keep_their_text_a_lost_template_is_refused(tmp_path):
    media = tmp_path / "take.mov"
    media.write_bytes(b"")
    base = dict(frames=24, rate=24, size="1280x720", model="veo-3.1-fast", seed=7, first_frame=media)
    journal = Journal.open_default()

    # Free text wins over fields: promoted as written, the negative prompt with it.
    free = PromptSpec(prompt="A wide shot of a harbour.", fields=FIELDS)
    take = get_take(journal, _take(Slot(prompt=free.prompt, negative_prompt="fog", spec=free, **base)))
    final = promote_slot(take.slot, take, "ltx-2.3-pro")
    assert (final.prompt, final.negative_prompt, final.model, final.seed) == (
        "A wide shot of a harbour.",
        "fog",
        "ltx-2.3-pro",
        None,
    )
    # A take recorded before specs were kept (no `spec` in its stored slot) keeps its text.
    old = get_take(journal, _take(Slot(prompt="veo words", **base)))
    journal.execute(
        "UPDATE takes SET slot = ? WHERE id = ?",
        (json.dumps({k: v for k, v in json.loads(old.slot.model_dump_json()).items() if k != "spec"}), old.id),
    )
    old = get_take(journal, old.id)
    assert old.slot.spec is None and promote_slot(old.slot, old, "ltx-2.3-pro").prompt == "veo words"
    # A template's take, built again: the final model's handling of the negative prompt, then a deleted template.
    TemplateStore().save(new_template("dusk", "{subject} on a pier at {time_of_day}", []))
    spec = PromptSpec(template="dusk", fields={"subject": "a fox", "time_of_day": "dusk", "negative_prompt": "text"})
    take = get_take(journal, _take(Slot(prompt="a fox on a pier at dusk", negative_prompt="text", spec=spec, **base)))
    final = promote_slot(take.slot, take, "ltx-2.3-pro")
    assert (final.prompt, final.negative_prompt, final.spec) == ("a fox on a pier at dusk", None, spec)
    TemplateStore().delete("dusk")
    with pytest.raises(UnsupportedRequest, match=f"Take {take.id} cannot be promoted to LTX-2.3 Pro: .*dusk"):
        promote_slot(take.slot, take, "ltx-2.3-pro")
