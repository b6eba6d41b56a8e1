from datetime import date

import pytest

from promptreel.core.catalog import Size, load_catalog
from promptreel.core.errors import BadInput, UnknownModel

SEED_MODELS = {
    "draft",
    "sora-2",
    "sora-2-pro",
    "veo-3.1",
    "veo-3.1-fast",
    "veo-3",
    "veo-2",
    "gen-4.5",
    "gen-4-turbo",
    "kling-v3",
    "kling-v2.6",
    "ltx-2.3-pro",
    "ltx-2.3-fast",
}


def test_shipped_catalog_has_every_seed_model():
    cat = load_catalog()
    assert set(cat.models) >= SEED_MODELS
    for m in cat.models.values():
        assert m.routes and m.fps and m.price
        assert all(s.width > 0 for s in m.all_sizes())


def test_unknown_model_names_the_choices():
    with pytest.raises(UnknownModel) as e:
        load_catalog().get("veo-9")
    assert "veo-3.1" in str(e.value) and "promptreel models" in str(e.value)


def test_capabilities_from_data():
    cat = load_catalog()
    veo = cat.get("veo-3.1")
    assert veo.allowed_durations(Size.parse("1920x1080")) == [8]  # 1080p needs 8 s
    assert veo.allowed_durations(Size.parse("1280x720")) == [4, 6, 8]
    assert cat.get("gen-4.5").allowed_durations() == list(range(2, 11))
    assert cat.get("gen-4-turbo").requires == ["first_frame"]
    assert "last_frame" not in cat.get("sora-2").inputs
    assert cat.get("draft").price_per_second(None) == 0.0
    # An unpriced resolution class is estimated at the highest known price, so budgets stay safe.
    assert cat.get("veo-3.1").price_per_second(Size.parse("3840x2160")) == 0.40


def test_retired_routes_are_skipped_by_date():
    veo = load_catalog().get("veo-3.1")  # its Gemini API preview id shut down on 2026-10-22
    assert [r.protocol for r in veo.usable_routes(date(2026, 11, 23))] == ["vertex", "replicate", "fal", "runway"]
    assert [r.protocol for r in veo.usable_routes(date(2026, 10, 1))] == [
        "vertex",
        "gemini",
        "replicate",
        "fal",
        "runway",
    ]
    sora = load_catalog().get("sora-2")  # the model itself ended: no route at all from that day
    assert sora.usable_routes(date(2026, 11, 23)) == [] and len(sora.usable_routes(date(2026, 9, 1))) == 3


def test_user_file_overrides_price_and_adds_route(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text(
        '[models."veo-3.1".price]\n"720p" = 0.35\n'
        '[models."veo-3.1"]\nroutes = [{ protocol = "fal", model_id = "fal-ai/veo3.1", concurrency = 3 }]\n'
        '[models.my-model]\nname = "Mine"\nvendor = "Me"\ndurations = [5]\n'
        'sizes = { "16:9" = ["1280x720"] }\nfps = [24]\nprice = { "720p" = 0.01 }\n'
        'routes = [{ protocol = "replicate", model_id = "me/mine" }]\n'
    )
    cat = load_catalog(user)
    veo = cat.get("veo-3.1")
    assert veo.price["720p"] == 0.35 and veo.price["1080p"] == 0.40  # merged key by key
    assert [r.key for r in veo.routes] == ["fal:fal-ai/veo3.1"]  # a routes list replaces
    assert cat.get("my-model").allowed_durations() == [5]


@pytest.mark.parametrize("text", ['[models.x]\nname = "X"\n', "not toml ["])
def test_bad_user_file_is_refused_clearly(tmp_path, text):
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(BadInput) as e:
        load_catalog(user)
    assert str(user) in str(e.value) or "catalog" in str(e.value)


def test_missing_user_file_is_refused_clearly(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_catalog(tmp_path / "nope.toml")


def test_every_aggregator_route_has_an_input_mapping():
    """A Replicate or fal route whose model has no input mapping could only refuse: keep them in step."""
    from promptreel.core.providers.hosted_inputs import input_map

    for m in load_catalog().models.values():
        for r in m.routes:
            if r.protocol in ("replicate", "fal"):
                assert input_map(r.protocol, r.model_id), (m.id, r.model_id)


def test_veo_3_1_family_as_served_now_and_ltx_2_3_async():
    """Veo 3.1 / Fast / Lite: Vertex ids first, the Gemini API's preview ids retired (google-genai 3.x sends Veo
    only to Vertex); LTX-2.3: Pro extends and retakes, Fast's long takes only at 1080p. Each names its source."""
    cat = load_catalog()
    today = date(2026, 12, 6)
    for mid, vertex_id in (
        ("veo-3.1", "veo-3.1-generate-001"),
        ("veo-3.1-fast", "veo-3.1-fast-generate-001"),
        ("veo-3.1-lite", "veo-3.1-lite-generate-001"),
    ):
        m = cat.get(mid)
        assert m.usable_routes(today)[0].key == f"vertex:{vertex_id}"
        assert all(not r.usable(today) for r in m.routes if r.protocol == "gemini")
        assert m.allowed_durations(Size.parse("1080x1920")) == [8]
        assert m.lifecycle.source and m.lifecycle.checked_on == today
        assert all(r.source and r.checked_on == today for r in m.routes)
    assert cat.get("veo-3.1-lite").inputs == ["first_frame", "last_frame"]
    assert list(cat.models).index("veo-3.1-lite") == list(cat.models).index("veo-3.1-fast") + 1
    pro, fast = cat.get("ltx-2.3-pro"), cat.get("ltx-2.3-fast")
    assert {"extend", "remix"} <= set(pro.inputs) and "extend" not in fast.inputs
    assert fast.allowed_durations(Size.parse("2560x1440")) == [6, 8, 10]
    assert fast.allowed_durations(Size.parse("1080x1920"))[-1] == 20
    assert pro.fps == fast.fps == [24, 25, 48, 50]
