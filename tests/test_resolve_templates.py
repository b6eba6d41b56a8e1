"""`gen: template=NAME key=value` markers in connected mode, through both gateways and the Resolve
double: each slot's prompt built for its own model (an A/B too), refusals naming the item before
anything is made, and the take promoted to another family worded for it."""

from __future__ import annotations

import pytest

from promptreel.core.catalog import default_catalog
from promptreel.core.errors import UserError
from promptreel.core.journal import Journal
from promptreel.core.prompts.compose import PromptSpec, compose
from promptreel.core.prompts.templates import TemplateStore, new_template
from promptreel.core.takes import list_takes, promote_slot
from promptreel.resolve_plugin.fill import fill, promote
from tests.fakes.resolve import cut_with_placeholders, pool_clip
from tests.test_resolve_fill import connect, home  # noqa: F401  (fixtures: both gateways, a private home)
from tests.test_resolve_takes import PerModel

MARKER = 'gen: template=dusk subject="a red fox" negative_prompt="text, logos"'
SPEC = PromptSpec(template="dusk", fields={"subject": "a red fox", "negative_prompt": "text, logos"})


def marked(text: str = MARKER):
    """The double's cut with one more placeholder: a 24-frame Solid Color whose marker is `text`."""
    resolve, timeline = cut_with_placeholders()
    item = timeline._add(1, timeline.GetStartFrame() + 100, 24, "SH050", kind="generator")
    item.AddMarker(0, "Blue", text, "", 1)
    return resolve, timeline, item.GetUniqueId()


@pytest.fixture
def dusk():
    TemplateStore().save(new_template("dusk", "{subject} on a pier at dusk", []))


def wording(model: str):
    built = compose(default_catalog().get(model), SPEC)
    return model, built.text, built.negative_prompt


def test_ab_fill_sends_each_model_its_own_wording(connect, tmp_path, dusk):
    resolve, timeline, item = marked()
    maker = PerModel(tmp_path / "made")
    report = fill(connect(resolve), maker, item_ids=[item], models=["veo-3.1-fast", "sora-2"])
    assert report.failed == [] and len(report.edits) == 1
    sent = [(s.model, s.prompt, s.negative_prompt) for s in maker.slots]
    assert sent == [wording("veo-3.1-fast"), wording("sora-2")]
    assert sent[0][2] == "text, logos" and sent[1][2] is None  # Sora takes no negative prompt
    takes = list_takes(Journal.open_default(), shot="SH050")
    assert [t.slot.spec for t in takes] == [SPEC, SPEC]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("gen: template=nope subject=fox", "No template named 'nope'"),
        ("gen: template=dusk", "subject"),  # the template's value is missing
        ('gen: template=dusk subject="a fox', "unclosed quote"),
        ("gen: template=dusk a fox", "'a' in its `gen: template=…` is not key=value"),
    ],
)
def test_a_bad_template_marker_is_refused_naming_the_item_before_anything_is_made(
    connect, tmp_path, dusk, text, problem
):
    resolve, timeline, item = marked(text)
    maker = PerModel(tmp_path / "made")
    before = len(timeline._items())
    for models in (None, ["veo-3.1-fast", "sora-2"]):
        with pytest.raises(UserError) as e:
            fill(connect(resolve), maker, model="veo-3.1-fast", models=models)
        assert "'SH050' on V1 at frame 86500" in e.value.problem and problem in e.value.problem
    assert maker.slots == [] and len(timeline._items()) == before
    assert list_takes(Journal.open_default()) == []


def test_a_template_take_promoted_in_resolve_is_built_for_the_final_model(connect, tmp_path, dusk):
    resolve, timeline, item = marked()
    gw = connect(resolve)
    maker = PerModel(tmp_path / "made")
    assert fill(gw, maker, item_ids=[item], model="veo-3.1-fast").failed == []
    (take,) = list_takes(Journal.open_default(), shot="SH050")
    assert (take.slot.model, take.prompt, take.slot.negative_prompt) == wording("veo-3.1-fast")
    promote(gw, maker, take.provenance["resolve_clip"], promote_slot(take.slot, take, "ltx-2.3-pro"))
    final = maker.slots[-1]
    assert (final.model, final.prompt, final.negative_prompt) == wording("ltx-2.3-pro")


def test_a_draft_keeps_its_fields_and_is_filled_in_the_final_models_wording(connect, tmp_path):
    from promptreel.core.request import Slot
    from promptreel.resolve_plugin import bins
    from tests.fakes.clips import TestPatternMaker

    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    fields = PromptSpec(
        fields={
            "subject": "a fox",
            "action": "sleeps",
            "location": "a den",
            "camera_movement": "slow push in",
            "mood": "calm",
        }
    )  # Runway places the camera before the place, Veo after
    veo = compose(default_catalog().get("veo-3.1"), fields).text
    slot = Slot(frames=24, rate=24, size="320x180", prompt=veo, model="draft", spec=fields)
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "drafts"), slot)
    assert PromptSpec.model_validate_json(draft.third_party["promptreel.spec"]) == fields
    gw.add_track()
    gw.place(draft.id, 0, 24, 2, 86500)
    (use,) = [i.id for t in gw.timeline().tracks for i in t.items if i.clip_id == draft.id]
    maker = PerModel(tmp_path / "made")
    assert fill(gw, maker, item_ids=[use], model="gen-4.5").failed == []
    (sent,) = maker.slots
    runway = compose(default_catalog().get("gen-4.5"), fields).text
    assert (sent.model, sent.prompt) == ("gen-4.5", runway) and runway != veo
    # A draft whose spec was garbled by hand is refused, naming it, before anything is made.
    resolve, timeline = cut_with_placeholders()
    gw = connect(resolve)
    draft = bins.create_draft(gw, TestPatternMaker(tmp_path / "drafts2"), slot)
    assert pool_clip(resolve, draft.id).SetThirdPartyMetadata("promptreel.spec", "{not json")
    gw.add_track()
    gw.place(draft.id, 0, 24, 2, 86500)
    with pytest.raises(UserError, match="unreadable `promptreel.spec`"):
        fill(gw, maker, model="gen-4.5")
    assert len(maker.slots) == 1
