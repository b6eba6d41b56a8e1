"""Shot fields from a TOML file, and the catalog's `family`."""

import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.errors import BadInput
from promptreel.core.prompts.fields import ShotFields, load_fields


def test_shot_file_loads(tmp_path):
    path = tmp_path / "shot.toml"
    path.write_text(
        'subject = "a fox"\naction = "  runs through snow "\ncamera_movement = "tracking shot"\n', encoding="utf-8"
    )
    fields = load_fields(path)
    assert fields == ShotFields(subject="a fox", action="runs through snow", camera_movement="tracking shot")
    assert list(fields.present()) == ["subject", "action", "camera_movement"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ('subject = "a fox"\ncolour = "red"\nzoom = 2\n', "unknown field(s): colour, zoom"),
        ('subject = "a fox\n', "not valid TOML"),
        ("subject = 3\n", "not text: subject"),
        ('[subject]\nname = "fox"\n', "not text: subject"),
    ],
)
def test_bad_shot_files_are_refused_clearly(tmp_path, text, expected):
    path = tmp_path / "shot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as e:
        load_fields(path)
    assert expected in str(e.value) and str(path) in str(e.value)
    if "unknown" in expected:
        assert "camera_movement" in e.value.fix  # names the fields that are allowed


def test_missing_shot_file(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_fields(tmp_path / "nope.toml")


def test_every_shipped_model_names_its_family():
    """Chosen, not defaulted: every shipped entry states its family ("generic", the order most vendors'
    guides share, only where the vendor publishes no prompting guide of its own that a recipe follows)."""
    from promptreel.core.tomlfile import shipped

    raw = shipped("catalog.toml")["models"]
    assert [mid for mid, entry in raw.items() if "family" not in entry] == []
    families = {m.id: m.family for m in load_catalog().models.values()}
    assert families["veo-3.1"] == "veo" and families["sora-2-pro"] == "sora" and families["gen-4.5"] == "runway"
    assert families["kling-v3"] == "kling" and families["ltx-video-local"] == "ltx" and families["draft"] == "draft"


def test_a_user_model_without_family_is_generic_and_a_bad_one_is_refused(tmp_path):
    entry = (
        '[models.mine]\nname = "Mine"\nvendor = "Me"\ndurations = [5]\nsizes = { "16:9" = ["1280x720"] }\n'
        'fps = [24]\nprice = { "720p" = 0.01 }\nroutes = [{ protocol = "replicate", model_id = "me/mine" }]\n'
    )
    user = tmp_path / "mine.toml"
    user.write_text(entry)
    assert load_catalog(user).get("mine").family == "generic"
    user.write_text(entry + 'family = "pika"\n')
    with pytest.raises(BadInput, match="family"):
        load_catalog(user)
