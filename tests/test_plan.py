from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from promptreel.core.catalog import Size, load_catalog
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.plan import check_request, nearest_sizes, plan_slot
from promptreel.core.request import GenerationRequest, Slot

CAT = load_catalog()
RATES = [
    Fraction(24),
    Fraction(25),
    Fraction(30),
    Fraction(24000, 1001),
    Fraction(30000, 1001),
    Fraction(60000, 1001),
    Fraction(50),
]
SIZES = ["1920x1080", "3840x2160", "2048x858", "1080x1920", "1280x720", "1080x1080", "720x576", "4096x1716"]
MODELS = sorted(
    m
    for m, spec in CAT.models.items()  # models that need an input (gen-4-turbo an image: below;
    if not spec.requires and spec.state() != "retired"
)  # aleph-2 a clip) and retired ones are refused


@settings(max_examples=300, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    rate=st.sampled_from(RATES),
    size=st.sampled_from(SIZES),
    frames=st.integers(1, 600),
    handles=st.integers(0, 24),
)
def test_planned_generation_covers_the_slot_with_an_offered_size(model, rate, size, frames, handles):
    m = CAT.get(model)
    slot = Slot(frames=frames, rate=rate, size=size, prompt="a lighthouse at dusk")
    try:
        planned = plan_slot(slot, m, handles=handles)
    except UnsupportedRequest as e:
        # Refused only when no size at the nearest aspect has a duration that covers the slot.
        need = Fraction(frames + 2 * handles) / rate
        for cand in nearest_sizes(m, Size.parse(size), with_image=False):
            assert need > max(m.allowed_durations(cand)), e
        assert "at most" in str(e)
        return
    req = planned.request
    assert planned.generated_seconds >= Fraction(frames + 2 * handles) / rate
    if m.any_size:
        assert req.size == Size.parse(size) and req.frames == frames + 2 * handles and req.fps == rate
    else:
        assert req.size in m.all_sizes(with_image=False)
        assert req.seconds in m.allowed_durations(req.size)
        assert req.fps in m.fps


@settings(max_examples=100, deadline=None)
@given(model=st.sampled_from(MODELS), frames=st.integers(1, 200))
def test_shortest_covering_duration_is_chosen(model, frames):
    m = CAT.get(model)
    assume(not m.any_duration)
    slot = Slot(frames=frames, rate=Fraction(24000, 1001), size="1920x1080", prompt="x")
    try:
        req = plan_slot(slot, m).request
    except UnsupportedRequest:
        return
    shorter = [d for d in m.allowed_durations(req.size) if d < req.seconds]
    assert all(Fraction(d) < slot.seconds for d in shorter)


def test_scope_slot_prefers_1080p_to_paying_for_4k():
    slot = Slot(frames=96, rate=Fraction(24000, 1001), size="2048x858", prompt="x")
    req = plan_slot(slot, CAT.get("veo-3.1")).request
    assert (str(req.size), req.seconds) == ("1920x1080", 8)  # 1080p needs 8 s on Veo


def test_portrait_slot_gets_portrait_size():
    slot = Slot(frames=48, rate=Fraction(25), size="1080x1920", prompt="x")
    req = plan_slot(slot, CAT.get("kling-v2.6")).request
    assert req.size.height > req.size.width and req.seconds == 5


def test_too_long_slot_is_refused_naming_the_limit():
    with pytest.raises(UnsupportedRequest, match="at most 8 s"):
        plan_slot(Slot(frames=500, rate=Fraction(24), size="1920x1080", prompt="x"), CAT.get("veo-3.1"))


def test_draft_renders_the_exact_slot():
    slot = Slot(frames=101, rate=Fraction(30000, 1001), size="1998x1080", prompt="x")
    req = plan_slot(slot, CAT.get("draft"), handles=6).request
    assert (req.frames, req.fps, str(req.size)) == (113, Fraction(30000, 1001), "1998x1080")


def _req(**kw):
    kw.setdefault("prompt", "a lighthouse at dusk")
    return GenerationRequest(**kw)


@pytest.mark.parametrize(
    "model,kw,match",
    [
        ("kling-v2.6", dict(seconds=6, size="1280x720"), "Allowed durations: 5, 10"),
        ("gen-4.5", dict(seconds=4, size="1920x1080"), "Allowed sizes: 1280x720, 720x1280"),
        ("veo-3.1", dict(seconds=4, size="1920x1080"), "at 1920x1080: 8 s"),
        ("kling-v2.6", dict(seconds=5, size="1280x720", fps=30), "It makes 24 fps"),
        ("gen-4-turbo", dict(seconds=5, size="1280x720"), "needs a first frame"),
        ("gen-4.5", dict(seconds=5, size="1280x720", audio=True), "makes no audio"),
        ("gen-4.5", dict(seconds=5, size="1280x720", prompt="x" * 1001), "at most 1000"),
        ("veo-3.1", dict(seconds=8, size="1280x720", frames=192), "whole-second lengths"),
    ],
)
def test_unservable_requests_are_refused_with_the_allowed_values(model, kw, match):
    with pytest.raises(UnsupportedRequest, match=match):
        check_request(_req(model=model, **kw), CAT.get(model))


def test_input_the_model_does_not_take_is_refused(tmp_path):
    img = tmp_path / "a.png"
    img.write_bytes(b"\x89PNG")
    with pytest.raises(UnsupportedRequest, match="does not accept a last frame.*It accepts: first_frame"):
        check_request(
            _req(model="gen-4.5", seconds=4, size="1280x720", first_frame=img, last_frame=img), CAT.get("gen-4.5")
        )
    with pytest.raises(UnsupportedRequest, match="at most 3 reference images"):
        check_request(
            _req(model="veo-3.1", seconds=8, size="1280x720", reference_images=(img,) * 4), CAT.get("veo-3.1")
        )


def test_missing_image_is_refused(tmp_path):
    with pytest.raises(BadInput, match="missing or unreadable"):
        check_request(
            _req(model="gen-4-turbo", seconds=5, size="1280x720", first_frame=tmp_path / "gone.png"),
            CAT.get("gen-4-turbo"),
        )


def test_image_only_sizes_need_an_image(tmp_path):
    img = tmp_path / "a.png"
    img.write_bytes(b"\x89PNG")
    m = CAT.get("gen-4.5")
    with pytest.raises(UnsupportedRequest):
        check_request(_req(model="gen-4.5", seconds=5, size="960x960"), m)
    check_request(_req(model="gen-4.5", seconds=5, size="960x960", first_frame=img), m)


def test_model_with_no_available_route_is_refused():
    import datetime

    m = CAT.get("veo-3.1").model_copy(deep=True)
    for r in m.routes:
        r.shutdown_on = datetime.date(2020, 1, 1)
    with pytest.raises(UnsupportedRequest, match="Veo 3.1 .veo-3.1. has no route left that serves it"):
        check_request(_req(model="veo-3.1", seconds=4, size="1280x720"), m)


def test_cache_key_depends_on_media_not_tags(tmp_path):
    img = tmp_path / "a.png"
    img.write_bytes(b"one")
    key = _req(seconds=4, first_frame=img, tags={"shot": "A"}).cache_key()
    assert _req(seconds=4, first_frame=img, tags={"shot": "B"}).cache_key() == key
    assert _req(seconds=4, first_frame=img, seed=2).cache_key() != key
    img.write_bytes(b"two")  # same path, new picture: a new take
    assert _req(seconds=4, first_frame=img).cache_key() != key
