"""Structured prompts: per-family order, length limits, free-text precedence, negative-prompt routing."""

import typing

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from promptreel.core.catalog import Family, load_catalog
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.prompts.builders import NEGATIVE, RECIPES, build_prompt, render
from promptreel.core.prompts.fields import ShotFields

CATALOG = load_catalog()

SHOT = ShotFields(
    subject="a weathered fisherman",
    action="hauls a dripping net onto the deck",
    location="a trawler in a grey swell at dawn",
    lighting="low sun, hard backlight",
    camera_angle="low-angle medium shot",
    camera_movement="slow push in",
    lens="35mm",
    film_stock="Kodak 500T, teal grade",
    mood="tense and weary",
    performance="jaw set",
    audio='gulls; he mutters "one more"',
    negative_prompt="text, watermark",
)

GOLDEN = {
    # Veo: subject + action -> location -> lighting -> camera + lens -> stock / grade -> mood -> audio.
    "veo-3.1": "A weathered fisherman hauls a dripping net onto the deck. Jaw set. A trawler in a grey swell at "
    "dawn. Low sun, hard backlight. Low-angle medium shot, slow push in, 35mm. Kodak 500T, teal grade. "
    'Tense and weary. Audio: gulls; he mutters "one more".',
    # Sora: tone -> character and performance -> environment -> camera -> colour; avoidances folded in.
    "sora-2": "Tense and weary. A weathered fisherman hauls a dripping net onto the deck. Jaw set. A trawler in a "
    "grey swell at dawn. Camera: low-angle medium shot, slow push in, 35mm. Lighting and palette: low sun, "
    'hard backlight, Kodak 500T, teal grade. Sound: gulls; he mutters "one more". Avoid: text, watermark.',
    # Runway: subject motion -> camera motion -> scene -> style; no audio (the model makes none), no negative.
    "gen-4.5": "A weathered fisherman hauls a dripping net onto the deck. Jaw set. Slow push in, low-angle medium "
    "shot, 35mm. A trawler in a grey swell at dawn. Low sun, hard backlight. Tense and weary, Kodak 500T, "
    "teal grade.",
    # Kling: subject (+description) + movement + scene + camera + lighting + atmosphere.
    "kling-v3": "A weathered fisherman hauls a dripping net onto the deck. Jaw set. A trawler in a grey swell at "
    "dawn. Low-angle medium shot, slow push in, 35mm. Low sun, hard backlight. Tense and weary. Kodak "
    '500T, teal grade. Audio: gulls; he mutters "one more".',
    # LTX: one flowing paragraph, action first, no labels.
    "ltx-2.3-pro": "A weathered fisherman hauls a dripping net onto the deck. Jaw set. A trawler in a grey swell at "
    "dawn. Low-angle medium shot, slow push in, 35mm. Low sun, hard backlight, Kodak 500T, teal grade. "
    'Tense and weary. Gulls; he mutters "one more".',
    # Grok: the opening frame (framing, setting, light, look), then the subject and what moves; avoidances folded.
    "grok-imagine-video": "Low-angle medium shot, 35mm. A trawler in a grey swell at dawn. Low sun, hard backlight, "
    "Kodak 500T, teal grade. A weathered fisherman hauls a dripping net onto the deck. Jaw set. "
    'Camera: slow push in. Tense and weary. Audio: gulls; he mutters "one more". Avoid: text, '
    "watermark.",
    # MiniMax: camera first, then subject + action, setting, style, the emotional tone last.
    "minimax-h3": "Slow push in, low-angle medium shot, 35mm. A weathered fisherman hauls a dripping net onto the "
    "deck. Jaw set. A trawler in a grey swell at dawn. Low sun, hard backlight, Kodak 500T, teal grade. "
    'Tense and weary. Audio: gulls; he mutters "one more". Avoid: text, watermark.',
    # Luma: subject + action, setting, secondary motion, camera, light and mood; positive only, silent model.
    "ray-3.2": "A weathered fisherman hauls a dripping net onto the deck. A trawler in a grey swell at dawn. Jaw "
    "set. Low-angle medium shot, slow push in, 35mm. Low sun, hard backlight, tense and weary. Kodak "
    "500T, teal grade.",
    # Wan: subject, scene, motion in one sentence, then aesthetic control (light, camera), then style.
    "wan-2.2-5b-local": "A weathered fisherman, a trawler in a grey swell at dawn, hauls a dripping net onto the "
    "deck. Jaw set. Low sun, hard backlight. Low-angle medium shot, slow push in, 35mm. Kodak "
    "500T, teal grade. Tense and weary.",
    # Draft slate: a labelled shot list an editor reads.
    "draft": "A weathered fisherman hauls a dripping net onto the deck. A trawler in a grey swell at dawn. Camera: "
    "low-angle medium shot, slow push in, 35mm. Light: low sun, hard backlight. Look: Kodak 500T, teal "
    'grade. Mood: tense and weary. Performance: jaw set. Audio: gulls; he mutters "one more".',
}


@pytest.mark.parametrize("model_id", sorted(GOLDEN))
def test_each_family_orders_fields_its_way(model_id):
    built = build_prompt(CATALOG.get(model_id), SHOT)
    assert built.text == GOLDEN[model_id]
    assert built.source == "fields" and built.family == CATALOG.get(model_id).family


def test_a_model_without_family_gets_the_generic_order():
    model = CATALOG.get("veo-3.1").model_copy(update={"family": "generic"})
    assert build_prompt(model, SHOT).text == (
        "A weathered fisherman hauls a dripping net onto the deck. Jaw set. A trawler in a grey swell at dawn. "
        "Low-angle medium shot, slow push in, 35mm. Low sun, hard backlight. Kodak 500T, teal grade. Tense and "
        'weary. Audio: gulls; he mutters "one more".'
    )


def test_every_family_has_a_recipe_that_places_every_field_once():
    assert set(RECIPES) == set(typing.get_args(Family))
    fields = set(ShotFields.names()) - {NEGATIVE}
    for name, recipe in RECIPES.items():
        placed = [f for part in recipe.parts for f in part.fields]
        assert sorted(placed) == sorted(fields), name
        ranked = set(recipe.priority) - {NEGATIVE}
        assert ranked == fields and len(recipe.priority) == len(set(recipe.priority)), name
        assert (NEGATIVE in recipe.priority) == (recipe.negative == "fold"), name


def test_sentences_are_joined_cleanly():
    built = build_prompt(CATALOG.get("veo-3.1"), ShotFields(subject="A cat.", action="jumps!", location="rooftop"))
    assert built.text == "A cat jumps! Rooftop."
    assert render(RECIPES["veo"], {"subject": ".", "action": "runs"}) == "Runs."
    # Wan's subject, scene and motion are one sentence, and read as one without the scene too.
    assert (
        render(RECIPES["wan"], {"subject": "a fox.", "location": "deep snow", "action": "runs"})
        == "A fox, deep snow, runs."
    )
    assert render(RECIPES["wan"], {"subject": "a fox", "action": "runs"}) == "A fox runs."


@pytest.mark.parametrize(
    "model_id, to_param, folded, dropped",
    [
        ("veo-3.1", True, None, False),
        ("kling-v3", True, None, False),
        ("ltx-video-local", True, None, False),
        ("draft", True, None, False),
        ("sora-2", False, "Avoid: text, watermark.", False),
        ("sora-2-pro", False, "Avoid: text, watermark.", False),
        ("gen-4.5", False, None, True),
        ("ltx-2.3-fast", False, None, True),
        ("wan-2.2-5b-local", True, None, False),
        ("grok-imagine-video", False, "Avoid: text, watermark.", False),
        ("minimax-h3", False, "Avoid: text, watermark.", False),
        ("ray-3.2", False, None, True),
    ],
)
def test_negative_prompt_routing_per_model(model_id, to_param, folded, dropped):
    model = CATALOG.get(model_id)
    built = build_prompt(model, ShotFields(subject="a fox", action="runs", negative_prompt="text, watermark"))
    assert built.negative_prompt == ("text, watermark" if to_param else None)
    if folded:
        assert built.text == "A fox runs. " + folded
        assert any("folded" in w for w in built.warnings)
    else:
        assert built.text == "A fox runs."
    assert (NEGATIVE in built.dropped) == dropped
    if dropped:
        assert any(model_id in w and "negative prompt dropped" in w for w in built.warnings)


def test_veo_without_the_parameter_folds_the_way_googles_guide_says():
    model = CATALOG.get("veo-3.1").model_copy(update={"negative_prompt": False})
    built = build_prompt(model, ShotFields(subject="a fox", action="runs", negative_prompt="walls, frames"))
    assert built.text == "A fox runs. Negative prompt: walls, frames."
    assert built.negative_prompt is None


def test_audio_cues_are_dropped_for_a_silent_model():
    built = build_prompt(CATALOG.get("veo-2"), ShotFields(subject="a fox", action="runs", audio="wind"))
    assert built.text == "A fox runs." and built.dropped == ["audio"]
    assert any("makes no sound" in w for w in built.warnings)


def test_free_text_wins_over_fields():
    built = build_prompt(CATALOG.get("veo-3.1"), SHOT, prompt="  A lighthouse in a storm.  ")
    assert built.text == "A lighthouse in a storm." and built.source == "free text"
    assert built.negative_prompt == "text, watermark"  # the parameter still carries it
    assert any("free-text prompt wins" in w and "subject" in w for w in built.warnings)


def test_free_text_is_never_rewritten_for_a_model_without_negative_prompt():
    built = build_prompt(CATALOG.get("sora-2"), SHOT, prompt="A lighthouse in a storm.")
    assert built.text == "A lighthouse in a storm."
    assert built.negative_prompt is None and NEGATIVE in built.dropped


def test_blank_free_text_falls_back_to_fields():
    built = build_prompt(CATALOG.get("veo-3.1"), SHOT, prompt="   ")
    assert built.source == "fields" and built.text == GOLDEN["veo-3.1"]


def test_free_text_over_the_limit_is_refused_not_cut():
    model = CATALOG.get("gen-4.5")
    with pytest.raises(UnsupportedRequest, match="1001 characters; gen-4.5 takes at most 1000"):
        build_prompt(model, prompt="x" * 1001)


@pytest.mark.parametrize(
    "model_id, shot",
    [
        ("veo-3.1", ShotFields(negative_prompt="blur")),
        ("sora-2", ShotFields(negative_prompt="blur")),  # a folded negative alone is no prompt
        ("veo-2", ShotFields(audio="wind", negative_prompt="blur")),  # a silent model has no use for audio cues
    ],
)
def test_nothing_to_send_is_refused(model_id, shot):
    with pytest.raises(BadInput, match=f"Nothing to send to {model_id}"):
        build_prompt(CATALOG.get(model_id), shot)


def test_long_fields_on_a_small_limit_drop_the_least_important_first():
    model = CATALOG.get("gen-4.5")  # 1000 characters
    shot = SHOT.model_copy(update={"mood": "quiet dread " * 80, "film_stock": "grainy 16mm reversal " * 20})
    built = build_prompt(model, shot)
    assert len(built.text) <= 1000
    # Runway ranks lens, then film stock, then mood lowest: those go, the rest stays whole.
    assert built.dropped == ["audio", NEGATIVE, "lens", "film_stock", "mood"]
    assert "Slow push in, low-angle medium shot." in built.text and "dread" not in built.text
    assert any(w == "Dropped to fit gen-4.5's 1000-character limit: lens, film_stock, mood." for w in built.warnings)


def test_a_single_field_too_long_for_the_model_is_refused():
    model = CATALOG.get("gen-4.5")
    with pytest.raises(UnsupportedRequest, match="Shorten the action field"):
        build_prompt(model, ShotFields(action="runs " * 300, lighting="dusk"))


WORD = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
VALUE = st.lists(WORD, min_size=1, max_size=25).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model_id=st.sampled_from(["veo-3.1", "sora-2", "gen-4.5", "kling-v3", "ltx-2.3-pro", "draft"]),
    negative_param=st.booleans(),
    limit=st.integers(min_value=20, max_value=600),
    values=st.dictionaries(st.sampled_from(ShotFields.names()), VALUE, min_size=1),
)
def test_length_limit_property(model_id, negative_param, limit, values):
    model = CATALOG.get(model_id).model_copy(
        update={"prompt_max_chars": limit, "negative_prompt": negative_param, "audio": "native"}
    )  # silent models: tested on their own
    recipe = RECIPES[model.family]
    shot = ShotFields(**values)
    content = {k: v for k, v in values.items() if k != NEGATIVE}
    folded = values.get(NEGATIVE) if (not negative_param and recipe.negative == "fold") else None
    ranked = [f for f in recipe.priority if f in content or (f == NEGATIVE and folded)]
    if not content:
        with pytest.raises(BadInput):
            build_prompt(model, shot)
        return

    def text_of(fields):
        return render(recipe, {f: content[f] for f in fields if f != NEGATIVE}, folded if NEGATIVE in fields else None)

    try:
        built = build_prompt(model, shot)
    except UnsupportedRequest:
        # Refused only when the most important field alone cannot fit.
        assert len(text_of(ranked[:1])) > limit
        return
    assert len(built.text) <= limit
    kept = len(ranked) - len([f for f in built.dropped if f in ranked])
    # The kept fields are exactly the most important ones, each whole (never cut mid-word) ...
    assert built.text == text_of(ranked[:kept])
    for f in ranked[:kept]:
        whole = (content[f] if f != NEGATIVE else folded).rstrip(" .,;")
        assert whole[1:] in built.text
    # ... the dropped ones are the least important, named lowest first ...
    assert built.dropped[len(built.dropped) - (len(ranked) - kept) :] == list(reversed(ranked[kept:]))
    # ... and no more was dropped than needed.
    if kept < len(ranked):
        assert len(text_of(ranked[: kept + 1])) > limit
