"""Discovery from the aggregators' published schemas, against the sandbox's fal and Replicate fakes over real
sockets: `models discover` lists video models from their OpenAPI schemas, `models add` writes a catalog entry and
input map, a field the mapping cannot place is reported (never guessed), a price comes from fal's pricing API or
is unknown (and a budget then refuses), and an added fal model fills slots frame-exact end to end."""

import json
from fractions import Fraction

import pytest

from promptreel.core.catalog import default_catalog
from promptreel.core.cli import main
from promptreel.core.discover import Discovered, fal_input_schema, map_schema
from promptreel.core.request import Slot
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.fal_platform import APPS, openapi
from promptreel.core.settings import load_settings
from tests.sandbox_engine import fill_exact, point_at

WAN = "fal-ai/wan-25-preview/text-to-video"


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["fal", "replicate"], limit=SMALL) as env:
        yield env


@pytest.fixture
def env(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    return fakes


def cli(capsys, *args):
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_discover_lists_fal_video_models_from_their_openapi_schemas(env, capsys):
    rc, out, err = cli(capsys, "models", "discover", "--route", "fal", "--json")
    assert rc == 0, err
    rows = {r["id"]: r for r in json.loads(out)}
    assert set(rows) == {"fal:fal-ai/veo3.1", *(f"fal:{k}" for k in APPS)}  # both categories, every page
    assert rows["fal:fal-ai/veo3.1"]["in_catalog"]
    wan = rows[f"fal:{WAN}"]
    assert wan["maps"] == ["aspect", "duration", "negative_prompt", "resolution", "seed"]
    assert wan["durations"] == [5, 10] and wan["sizes"]["9:16"] == ["480x852", "720x1280", "1080x1920"]
    # audio_url is background music, not "make audio": reported, not guessed.
    assert any(u.startswith("audio_url (string)") for u in wan["unmapped"])
    calls = env.fakes["fal"].calls_to("GET", r"/v1/models")
    assert {c.query["category"][0] for c in calls} == {"text-to-video", "image-to-video"}
    assert all(c.query["expand"] == ["openapi-3.0"] and c.query["status"] == ["active"] for c in calls)
    assert all(c.headers["authorization"].startswith("Key ") for c in calls)
    assert any("cursor" in c.query for c in calls)  # pages with schemas inline are short: the cursor was followed


def test_discover_search_and_a_required_field_it_cannot_place(env, capsys):
    rc, out, _ = cli(capsys, "models", "discover", "--route", "fal", "--search", "pixverse")
    assert rc == 0
    assert (
        "fal:fal-ai/pixverse/v5/transition" in out and "cannot be added: needs first_image_url, last_image_url" in out
    )
    rc, _, err = cli(capsys, "models", "add", "fal:fal-ai/pixverse/v5/transition")
    assert rc == 2 and "cannot set first_image_url, last_image_url" in err and len(err.strip().splitlines()) == 1
    assert load_settings().catalog_file is None  # nothing written, not even the setting
    assert "pixverse" not in str(default_catalog().models)


def test_mapping_from_names_types_enums_and_bounds():
    name, category, props, required, _ = APPS["fal-ai/wan-25-preview/image-to-video"]
    found = Discovered(
        "fal",
        "fal-ai/wan-25-preview/image-to-video",
        name,
        category,
        "",
        "",
        *fal_input_schema(
            "fal-ai/wan-25-preview/image-to-video",
            openapi("fal-ai/wan-25-preview/image-to-video", name, category, props, required),
        ),
    )
    m = map_schema(found)
    assert m.inputs["first_frame"] == "image_url" and m.entry["requires"] == ["first_frame"]
    assert m.inputs["duration_format"] == "str" and m.entry["prompt_max_chars"] == 800
    assert m.inputs["seed"] == "seed"  # a nullable integer (anyOf with null) is still a seed
    # Integer bounds become a range; "8s"-style enums keep their suffix; an image list is reference images.
    ranged = Discovered(
        "fal",
        "x/y",
        "Y",
        properties={
            "prompt": {"type": "string"},
            "seconds": {"type": "integer", "minimum": 2, "maximum": 12},
            "reference_image_urls": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "mystery": {"type": "number"},
        },
        required=["prompt"],
    )
    m = map_schema(ranged)
    assert m.entry["duration_range"] == {"min": 2, "max": 12} and m.entry["max_reference_images"] == 3
    assert m.unmapped == ["mystery (number): not set; the vendor's default applies"] and not m.blocking
    veo = map_schema(
        Discovered(
            "fal",
            "v",
            "V",
            properties={"prompt": {"type": "string"}, "duration": {"enum": ["4s", "8s"], "type": "string"}},
        )
    )
    assert veo.inputs["duration_format"] == "seconds_suffix" and veo.entry["durations"] == [4, 8]
    named = map_schema(
        Discovered(
            "fal",
            "v",
            "V",
            properties={
                "prompt": {"type": "string"},
                "duration": {"enum": ["5"], "type": "string"},
                "video_size": {
                    "enum": ["square_hd", "square", "landscape_16_9", "portrait_16_9", "custom"],
                    "type": "string",
                },
            },
        )
    )
    assert named.inputs["aspect"] == "video_size"
    assert named.inputs["aspect_values"] == {"1:1": "square_hd", "16:9": "landscape_16_9", "9:16": "portrait_16_9"}
    lengthless = map_schema(
        Discovered("fal", "v", "V", properties={"prompt": {"type": "string"}, "num_frames": {"type": "integer"}})
    )
    assert lengthless.blocking and any(u.startswith("num_frames") for u in lengthless.unmapped)


def test_add_writes_an_entry_priced_by_fals_pricing_api(env, isolated_home, capsys):
    (isolated_home / "catalog.toml").write_text("# my studio's models\n")
    settings = isolated_home / "settings.toml"
    settings.write_text(settings.read_text() + f'catalog_file = "{isolated_home / "catalog.toml"}"\n')
    rc, out, err = cli(capsys, "models", "add", f"fal:{WAN}")
    assert rc == 0, err
    assert "price from fal's pricing API (USD 0.05 per second" in out
    assert "not mapped: audio_url (string)" in out
    text = (isolated_home / "catalog.toml").read_text()
    assert text.startswith("# my studio's models")  # appended: the user's file is kept as written
    model = default_catalog().get("wan-25-preview-text-to-video")
    assert model.price == {"480p": 0.05, "720p": 0.05, "1080p": 0.05}
    assert [r.key for r in model.routes] == [f"fal:{WAN}"] and model.lifecycle.checked_on is not None
    est = env.fakes["fal"].calls_to("POST", r"/v1/models/pricing/estimate")[-1].json()
    assert est == {"estimate_type": "unit_price", "endpoints": {WAN: {"unit_quantity": 1}}}
    assert cli(capsys, "models", "add", f"fal:{WAN}")[0] == 2  # already there: --replace or --as
    rc, _, err = cli(capsys, "models", "add", "fal:fal-ai/veo3.1")
    assert rc == 2 and "already in the catalog, as veo-3.1" in err


def test_an_unknown_price_is_refused_by_a_budget_instead_of_counting_zero(env, capsys):
    rc, out, err = cli(capsys, "models", "add", "fal:fal-ai/minimax/hailuo-02/standard/text-to-video")
    assert rc == 0, err
    assert "price unknown per second: fal bills this endpoint per video" in out
    assert not default_catalog().get("minimax-hailuo-02-standard-text-to-video").price_known
    rc, _, err = cli(
        capsys,
        "generate",
        "a heron",
        "--model",
        "minimax-hailuo-02-standard-text-to-video",
        "--seconds",
        "6",
        "--budget",
        "100",
    )
    assert rc == 3 and "price of minimax-hailuo-02-standard-text-to-video is unknown" in err
    assert env.fakes["fal"].creates == 0
    rc, out, _ = cli(capsys, "models", "--json")
    assert json.loads(out)["minimax-hailuo-02-standard-text-to-video"]["price"] == {}
    rc, out, _ = cli(capsys, "models")
    assert rc == 0 and "unknown" in out


def test_replicate_discovery_reads_cog_schemas_and_adds_an_official_model(env, capsys):
    rc, out, err = cli(capsys, "models", "discover", "--route", "replicate", "--search", "wan")
    assert rc == 0, err
    assert "replicate:wan-video/wan-2.5-t2v" in out and "not mapped: size (enum 1280*720" in out
    assert env.fakes["replicate"].calls_to("QUERY", r"/v1/models")[-1].body == b"wan"
    rc, out, err = cli(capsys, "models", "add", "replicate:kwaivgi/kling-v2.1")
    assert rc == 0, err
    assert "price unknown: Replicate publishes no pricing API" in out
    model = default_catalog().get("kwaivgi-kling-v2.1")
    assert model.requires == ["first_frame"] and not model.price_known


def test_an_added_fal_model_fills_slots_frame_exact_end_to_end(env, isolated_home, capsys):
    assert cli(capsys, "models", "add", f"fal:{WAN}")[0] == 0
    slots = [
        Slot(
            frames=20,
            rate=Fraction(24000, 1001),
            size="320x180",
            prompt="a heron lifts off a pond",
            model="wan-25-preview-text-to-video",
            name="SH010",
            seed=7,
            negative_prompt="blur",
        ),
        Slot(
            frames=17,
            rate=Fraction(25),
            size="180x320",
            prompt="rain on a tram window",
            model="wan-25-preview-text-to-video",
            name="SH020",
        ),
    ]
    fill_exact(isolated_home, slots)
    bodies = sorted((c.json() for c in env.fakes["fal"].calls_to("POST", rf"/{WAN}")), key=lambda b: b["prompt"])
    assert bodies[0] == {
        "prompt": "a heron lifts off a pond",
        "duration": "5",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "negative_prompt": "blur",
        "seed": 7,
    }
    assert bodies[1]["aspect_ratio"] == "9:16" and "audio_url" not in bodies[1]


def test_replicate_python_reads_the_fakes_listing(env):
    """replicate-python (the pinned test extra) parses the fake's collection, search and model answers."""
    replicate = pytest.importorskip("replicate")
    fake = env.fakes["replicate"]
    client = replicate.Client(api_token=fake.key, base_url=fake.url)
    collection = client.collections.get("text-to-video")
    assert "kwaivgi/kling-v2.1" in {f"{m.owner}/{m.name}" for m in collection.models}
    hits = client.models.search("kling")
    assert [f"{m.owner}/{m.name}" for m in hits.results] == ["kwaivgi/kling-v2.1"]
    model = client.models.get("wan-video/wan-2.5-t2v")
    schema = model.latest_version.openapi_schema["components"]["schemas"]
    assert schema["Input"]["properties"]["size"]["allOf"] == [{"$ref": "#/components/schemas/size"}]
    assert schema["size"]["enum"][0] == "1280*720"
