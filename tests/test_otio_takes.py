"""Takes from the command line, end to end: generate A/B and variants, fill --models into an OTIO
timeline (alternates on a takes track), promote a draft to a sandbox model in place, revert."""

import json
from fractions import Fraction

import opentimelineio as otio
import pytest
from otio_helpers import as_json, assert_frame_exact, media_path, write_cut

from promptreel.core.cli import main
from promptreel.core.conform.probe import probe
from promptreel.core.journal import Journal
from promptreel.core.sandbox.run import sandbox
from promptreel.core.takes import list_takes

RATE = 24
pytestmark = pytest.mark.usefixtures("no_poll_waits")  # conftest: the CLI's engine without poll waits


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cut(tmp_path):
    """01:00:00:00 at 24 fps: an offline clip SH010 (20 frames, seed 5), a plate, a gap SH020 (30 frames)."""
    sh010 = otio.schema.Clip(
        name="SH010",
        media_reference=otio.schema.MissingReference(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(20, RATE)),
    )
    sh010.metadata["promptreel"] = {"prompt": "a lighthouse keeper lights the lamp", "seed": 5}
    plate_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(48, RATE))
    plate = otio.schema.Clip(
        name="plate",
        media_reference=otio.schema.ExternalReference(
            target_url="file:///media/plate.mov", available_range=plate_range
        ),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(12, RATE)),
    )
    sh020 = otio.schema.Gap(
        name="SH020",
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(30, RATE)),
    )
    sh020.markers.append(otio.schema.Marker(name="gen: the lamp turns over the sea at night"))
    return write_cut(tmp_path / "cut.otio", [sh010, plate, sh020], RATE)


def read(path):
    return otio.adapters.read_from_file(str(path))


def test_generate_ab_with_variants_records_takes_with_distinct_seeds(tmp_path, capsys):
    with sandbox(routes=["runway"], export=True) as env:
        code, out, err = run(
            capsys,
            "generate",
            "a lighthouse at dusk",
            "--model",
            "draft",
            "--model",
            "gen-4.5",
            "--variants",
            "2",
            "--seconds",
            "2",
            "--size",
            "1280x720",
            "--shot",
            "SH010",
            "--json",
            "--out",
            tmp_path,
        )
        creates = env.fakes["runway"].creates
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["model"], r["variant"], r["state"]) for r in rows] == [
        ("draft", 0, "done"),
        ("draft", 1, "done"),
        ("gen-4.5", 0, "done"),
        ("gen-4.5", 1, "done"),
    ]
    assert creates == 2
    code, out, _ = run(capsys, "takes", "SH010", "--json")
    takes = json.loads(out)
    assert [t["id"] for t in takes] == [r["take_id"] for r in rows]
    assert {t["kind"] for t in takes} == {"ab"} and len({t["group"] for t in takes}) == 1
    seeds = [t["seed"] for t in takes]
    assert seeds[0] is not None and seeds == [seeds[0], seeds[0] + 1, seeds[0], seeds[0] + 1]
    journal = Journal.open_default()
    assert sorted(j.request["seed"] for j in journal.jobs() if j.model == "gen-4.5") == seeds[2:]  # what was sent
    for t in takes:  # each take's slot is its clip as made
        info = probe(t["path"])
        assert (info.frames, str(info.width) + "x" + str(info.height)) == (t["frames"], t["size"])

    code, out, _ = run(capsys, "takes", "--choose", takes[3]["id"])
    assert code == 0 and f"* {takes[3]['id']}  SH010  ab  gen-4.5  seed {seeds[3]}" in out
    assert [t.chosen for t in list_takes(journal, shot="SH010")] == [False, False, False, True]


def test_generate_refuses_a_model_named_twice(capsys):
    code, _, err = run(capsys, "generate", "a kite", "--models", "draft,draft")
    assert code == 2 and "more than once" in err and Journal.open_default().jobs() == []


def test_fill_ab_puts_the_first_model_in_place_and_the_others_on_a_disabled_track_below(tmp_path, cut, capsys):
    with sandbox(routes=["runway"], export=True):
        code, out, err = run(
            capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4.5", "--codec", "h264"
        )
    assert code == 0, err
    ab = read(tmp_path / "ab.otio")
    takes_track, cut_track = ab.tracks[0], ab.tracks[1]
    assert (takes_track.name, takes_track.enabled, len(ab.tracks)) == ("promptreel takes", False, 2)
    main_clips = [cut_track[0], cut_track[2]]
    alternates = [c for c in takes_track if isinstance(c, otio.schema.Clip)]
    assert [c.name for c in alternates] == ["SH010 — gen-4.5", "SH020 — gen-4.5"]
    journal = Journal.open_default()
    for main_clip, alt, frames in zip(main_clips, alternates, (20, 30)):
        ns, alt_ns = main_clip.metadata["promptreel"], alt.metadata["promptreel"]
        assert ns["model"] == "draft" and alt_ns["model"] == "gen-4.5"
        assert_frame_exact(main_clip, frames, Fraction(RATE))
        assert_frame_exact(alt, frames, Fraction(RATE))
        # Same record time, same length: the alternate sits exactly under its shot.
        assert alt.range_in_parent() == main_clip.range_in_parent()
        takes = list_takes(journal, group=ns["take_group"])
        assert [t.model for t in takes] == ["draft", "gen-4.5"] and {t.kind for t in takes} == {"ab"}
        assert [e["take_id"] for e in ns["takes"]] == [t.id for t in takes]
        assert ns["take_id"] == takes[0].id and alt_ns["take_id"] == takes[1].id
        assert alt_ns["alternate_of"] == ns["take_group"] and media_path(alt) == takes[1].path
        assert takes[0].seed == takes[1].seed is not None  # comparable takes: one seed on both
    assert list_takes(journal, shot="SH010")[0].seed == 5  # the placeholder's own seed is kept

    # Premiere's route (FCP7 XML) writes it as it is: the takes track comes first, under the cut.
    from promptreel.otio_adapters.timeline_io import read_timeline, write_timeline

    written, note = write_timeline(read_timeline(tmp_path / "ab.otio"), tmp_path / "ab.xml")
    assert note is None and written.suffix == ".xml"
    xml = otio.adapters.read_from_file(str(written))
    assert [c.name for c in xml.tracks[0].find_clips()] == ["SH010 — gen-4.5", "SH020 — gen-4.5"]

    code, out, err = run(capsys, "revert", tmp_path / "ab.otio", "-o", tmp_path / "back.otio")
    assert code == 0, err
    assert as_json(read(tmp_path / "back.otio")) == as_json(read(cut))  # takes track gone, placeholders back


def test_fill_ab_refuses_before_spending_when_one_model_cannot(tmp_path, cut, capsys):
    code, _, err = run(capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4-turbo")
    assert code == 4 and "on gen-4-turbo" in err and "first frame" in err
    assert not (tmp_path / "ab.otio").exists() and Journal.open_default().jobs() == []
    code, _, err = run(capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,no-such")
    assert code == 2 and "Unknown model 'no-such'" in err


def test_promote_a_draft_to_a_sandbox_model_in_place_then_revert(tmp_path, cut, capsys):
    code, _, err = run(capsys, "fill", cut, "-o", tmp_path / "draft.otio", "--model", "draft", "--codec", "h264")
    assert code == 0, err
    code, out, _ = run(capsys, "takes", "SH010", "--json")
    (draft,) = json.loads(out)
    assert (draft["kind"], draft["model"], draft["seed"], draft["frames"]) == ("fill", "draft", 5, 20)

    with sandbox(routes=["runway"], export=True) as env:
        code, out, err = run(
            capsys,
            "promote",
            draft["id"],
            "--model",
            "gen-4.5",
            "--timeline",
            tmp_path / "draft.otio",
            "-o",
            tmp_path / "final.otio",
            "--codec",
            "h264",
            "--json",
        )
        assert code == 0, err
        sent = [c.json() for c in env.fakes["runway"].calls_to("POST", r"/v1/text_to_video")]
    promoted = json.loads(out)
    assert promoted["source"] == draft["id"] and promoted["take"]["model"] == "gen-4.5"
    assert [(b["promptText"], b["seed"]) for b in sent] == [("a lighthouse keeper lights the lamp", 5)]

    before, after = read(tmp_path / "draft.otio"), read(tmp_path / "final.otio")
    clip = after.tracks[0][0]
    ns = clip.metadata["promptreel"]
    assert (ns["model"], ns["seed"], ns["take_id"]) == ("gen-4.5", 5, promoted["take"]["id"])
    assert_frame_exact(clip, 20, Fraction(RATE))
    info = probe(media_path(clip))
    assert (info.frames, info.rate, info.width, info.height) == (20, Fraction(24), 320, 180)
    assert clip.range_in_parent() == before.tracks[0][0].range_in_parent()
    assert as_json(after.tracks[0][2]) == as_json(before.tracks[0][2])  # SH020 untouched
    takes = list_takes(Journal.open_default(), shot="SH010")
    assert [(t.kind, t.model, t.source, t.chosen) for t in takes] == [
        ("fill", "draft", None, False),
        ("promote", "gen-4.5", draft["id"], True),
    ]

    # Reverting the promotion alone gives back the draft timeline exactly.
    final_take = promoted["take"]["id"]
    assert run(capsys, "revert", tmp_path / "final.otio", "-o", tmp_path / "back.otio", "--take", final_take)[0] == 0
    assert as_json(read(tmp_path / "back.otio")) == as_json(before)
    code, _, err = run(capsys, "revert", tmp_path / "back.otio", "-o", tmp_path / "x.otio", "--take", final_take)
    assert code == 2 and f"No clip in back.otio plays {final_take}" in err
    # A whole revert steps every fill back once: the promoted clip to the draft, the draft to its placeholder.
    assert run(capsys, "revert", tmp_path / "final.otio", "-o", tmp_path / "once.otio")[0] == 0
    once = read(tmp_path / "once.otio")
    assert as_json(once.tracks[0][0]) == as_json(before.tracks[0][0])
    assert as_json(once.tracks[0][2]) == as_json(read(cut).tracks[0][2])
    assert run(capsys, "revert", tmp_path / "once.otio", "-o", tmp_path / "orig.otio")[0] == 0
    assert as_json(read(tmp_path / "orig.otio")) == as_json(read(cut))


def test_promote_refusals_change_nothing(tmp_path, cut, capsys):
    assert run(capsys, "fill", cut, "-o", tmp_path / "draft.otio", "--model", "draft", "--codec", "h264")[0] == 0
    take = list_takes(Journal.open_default(), shot="SH010")[0]
    jobs = len(Journal.open_default().jobs())
    code, _, err = run(
        capsys,
        "promote",
        take.id,
        "--model",
        "gen-4-turbo",
        "--timeline",
        tmp_path / "draft.otio",
        "-o",
        tmp_path / "final.otio",
    )
    assert code == 2 and "cannot be promoted to Runway Gen-4 Turbo" in err and "first frame" in err
    code, _, err = run(capsys, "promote", "take_nope", "--model", "gen-4.5")
    assert code == 2 and "no take take_nope" in err
    code, _, err = run(capsys, "promote", take.id, "--model", "gen-4.5", "--timeline", cut, "-o", tmp_path / "x.otio")
    assert code == 2 and "No clip in this timeline plays that take" in err
    code, _, err = run(capsys, "promote", take.id, "--model", "gen-4.5", "--timeline", tmp_path / "draft.otio")
    assert code == 2 and "--timeline and --output go together" in err
    assert not (tmp_path / "final.otio").exists() and not (tmp_path / "x.otio").exists()
    assert len(Journal.open_default().jobs()) == jobs and len(list_takes(Journal.open_default())) == 2


def test_promote_without_a_timeline_renders_the_take_again_at_its_size(tmp_path, capsys):
    assert (
        run(
            capsys,
            "generate",
            "a kite over dunes",
            "--model",
            "draft",
            "--frames",
            "30",
            "--fps",
            "25",
            "--size",
            "320x180",
            "--shot",
            "SH030",
            "--out",
            tmp_path,
        )[0]
        == 0
    )
    (take,) = list_takes(Journal.open_default(), shot="SH030")
    with sandbox(routes=["runway"], export=True):
        code, out, err = run(
            capsys, "promote", take.id, "--model", "gen-4.5", "--codec", "h264", "--media-dir", tmp_path / "final"
        )
    assert code == 0, err
    final = list_takes(Journal.open_default(), shot="SH030")[1]
    info = probe(final.path)
    assert (info.frames, info.rate, info.width, info.height) == (30, Fraction(25), 320, 180)
    assert final.source == take.id and final.chosen and final.path.parent == tmp_path / "final"
    assert final.seed is None and take.seed is None  # a plain generate gives no seed; none is invented
    # Off a terminal the job's state changes are printed as they happen, named by the shot.
    lines = [line for line in err.splitlines() if "finished] SH030  gen-4.5" in line]
    assert lines[0].split("  ")[2] == "queued" and lines[-1].split("  ")[2] == "done"


def test_a_failed_alternate_writes_nothing_unless_partial(tmp_path, cut, capsys):
    from promptreel.core.sandbox import Reply

    refused = Reply(400, {"error": "Invalid parameter 'promptText'"})
    with sandbox(routes=["runway"], export=True) as env:
        env.fakes["runway"].fail_next("POST", r"/v1/text_to_video", refused)
        code, _, err = run(
            capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4.5", "--codec", "h264"
        )
        assert code == 4 and "1 take(s) failed" in err and "gen-4.5: " in err and "Nothing was written" in err
        assert not (tmp_path / "ab.otio").exists()
        env.fakes["runway"].fail_next("POST", r"/v1/text_to_video", refused)
        code, out, err = run(
            capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4.5", "--codec", "h264", "--partial"
        )
    assert code == 0, err
    assert out.count("take not made") == 1 and "2 filled" in out
    ab = read(tmp_path / "ab.otio")
    assert [c.metadata["promptreel"]["model"] for c in (ab.tracks[1][0], ab.tracks[1][2])] == ["draft", "draft"]
    assert len([c for c in ab.tracks[0] if isinstance(c, otio.schema.Clip)]) == 1  # the alternate that was made
    failed = [t for t in list_takes(Journal.open_default()) if not t.ok]
    assert len(failed) == 1 and failed[0].model == "gen-4.5" and "promptText" in failed[0].error


def test_resolve_shaped_alternates_are_named_for_their_media(tmp_path, cut, capsys):
    timeline = read(cut)
    timeline.metadata["Resolve_OTIO"] = {"Resolve OTIO Meta Version": "1.0"}
    otio.adapters.write_to_file(timeline, str(cut))
    with sandbox(routes=["runway"], export=True):
        code, _, err = run(
            capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4.5", "--codec", "h264"
        )
    assert code == 0, err
    takes_track = read(tmp_path / "ab.otio").tracks[0]
    assert takes_track.metadata["Resolve_OTIO"] == {"Locked": False} and not takes_track.enabled
    for alt in takes_track.find_clips():  # Resolve conforms by file name, and reads bare paths
        assert alt.name == media_path(alt).name and not alt.media_reference.target_url.startswith("file:")
        assert probe(alt.media_reference.target_url).frames == alt.media_reference.available_range.duration.value


def test_fill_ab_summary_counts_every_take_as_the_ledger_does(tmp_path, cut, capsys):
    from promptreel.core.sandbox import SMALL

    # The fake sends at most 1 s: SH020's 30 frames (1.25 s) cannot be conformed from its gen-4.5 take,
    # which is paid all the same; SH010's is placed as an alternate.
    with sandbox(routes=["runway"], export=True, limit=SMALL):
        code, out, err = run(
            capsys, "fill", cut, "-o", tmp_path / "ab.otio", "--models", "draft,gen-4.5", "--codec", "h264", "--partial"
        )
    assert code == 0, err
    journal = Journal.open_default()
    assert len([j for j in journal.jobs() if j.model == "gen-4.5"]) == 2
    assert journal.spent_on() == 0  # the sandbox's fakes made these: pretend spend, kept apart
    spent = dict((m, usd) for m, usd, _ in journal.spend("model", sandbox=True))["gen-4.5"]
    assert spent > 0
    text = " ".join(out.split())
    assert f"2 filled (3 takes), cost ${spent:.2f};" in text and "take not made" in text


def test_a_take_conform_refuses_is_reused_until_fill_asks_for_new_ones(tmp_path, cut, capsys):
    from promptreel.core.sandbox import SMALL

    args = ["fill", cut, "-o", tmp_path / "filled.otio", "--model", "gen-4.5", "--codec", "h264"]
    with sandbox(routes=["runway"], export=True, limit=SMALL) as env:  # 1 s takes: SH020 needs 1.25 s
        code, _, err = run(capsys, *args)
        assert code == 4 and "The clip is short" in err and env.fakes["runway"].creates == 2
    assert "--short" not in err  # conform's option, which fill does not have
    assert "--no-cache" in err and "--partial" in err
    with sandbox(routes=["runway"], export=True) as env:  # full-length takes from now on
        code, _, err = run(capsys, *args)
        assert code == 4 and "The clip is short" in err and env.fakes["runway"].creates == 0  # the paid take again
        code, out, err = run(capsys, *args, "--no-cache")
        assert code == 0, err
        assert env.fakes["runway"].creates == 2 and "2 filled" in out
    filled = read(tmp_path / "filled.otio")
    assert_frame_exact(filled.tracks[0][2], 30, Fraction(RATE))
    assert filled.tracks[0][2].metadata["promptreel"]["cached"] is False
