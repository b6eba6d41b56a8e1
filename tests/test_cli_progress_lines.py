"""Off a terminal (a log, CI, a pipe) the CLI prints one line per job state change, with the shot, the
model and the time since the job was first seen, and counters that never pass their totals (an A/B
fill printed "[4/3]" and nothing between "queued" and the end)."""

from __future__ import annotations

import io
import re
from fractions import Fraction

from promptreel.core.cli import main
from promptreel.core.cli.progress import LineView
from promptreel.core.events import Event, EventKind
from promptreel.core.sandbox import Limit, sandbox


def test_one_line_per_state_change_with_shot_model_and_elapsed():
    lines, now = [], [100.0]
    view = LineView(lines.append, {"j1": "SH010", "j2": "SH020"}.get, clock=lambda: now[0])
    view(Event(EventKind.QUEUED, "j1", model="veo-3.1"))
    view(Event(EventKind.QUEUED, "j2", model="kling-v3", variant=1))
    now[0] = 103.0
    for progress in (0.1, 0.5, 0.9):  # a new percentage is not a new state
        view(Event(EventKind.RUNNING, "j1", model="veo-3.1", progress=progress))
    view(Event(EventKind.WAITING, "j2", model="kling-v3", variant=1))
    now[0] = 161.0
    view(Event(EventKind.DOWNLOADING, "j1", model="veo-3.1", bytes=10, total=100))
    view(Event(EventKind.DOWNLOADING, "j1", model="veo-3.1", bytes=90, total=100))
    view(Event(EventKind.DONE, "j1", model="veo-3.1"))
    view(Event(EventKind.FAILED, "j2", model="kling-v3", variant=1, reason="moderation refused the prompt"))
    assert lines == [
        "[0/1 finished] SH010  veo-3.1  queued  0 s",
        "[0/2 finished] SH020  kling-v3 #2  queued  0 s",
        "[0/2 finished] SH010  veo-3.1  running 10%  3 s",
        "[0/2 finished] SH020  kling-v3 #2  made by another run; waiting  3 s",
        "[0/2 finished] SH010  veo-3.1  downloading  61 s",
        "[1/2 finished] SH010  veo-3.1  done  61 s",
        "[2/2 finished] SH020  kling-v3 #2  failed: moderation refused the prompt  61 s",
    ]


def test_an_ab_fill_off_a_terminal_names_each_shot_and_counts_takes_consistently(tmp_path, capsys):
    shots = tmp_path / "shots.csv"
    shots.write_text(
        "shot,duration,prompt,model,seed,notes\nSH010,20,a red fox in snow,,,\nSH020,12,a fox's eye,,,\n", "utf-8"
    )
    assert (
        main(["storyboard", str(shots), "-o", str(tmp_path / "board.otio"), "--rate", "24", "--size", "320x180"]) == 0
    )
    with sandbox(routes=["ltx"], limit=Limit(seconds=Fraction(2)), export=True):
        assert (
            main(
                [
                    "fill",
                    str(tmp_path / "board.otio"),
                    "-o",
                    str(tmp_path / "filled.otio"),
                    "--models",
                    "ltx-2.3-fast,ltx-2.3-pro",
                ]
            )
            == 0
        )
    err = capsys.readouterr().err.splitlines()
    jobs = [
        m.groups()
        for m in map(re.compile(r"^\[(\d+)/(\d+) finished\] (\S+)  (\S+)  (\w+).*  (\d+) s$").match, err)
        if m
    ]
    slots = [m.groups() for m in map(re.compile(r"^\[(\d+)/(\d+)\] (\S+) \(\d+ frames\): (\w+)$").match, err) if m]
    # Two shots on two models: four jobs, each queued then done, each line naming its shot and model.
    assert {(shot, model) for _, _, shot, model, state, _ in jobs if state == "done"} == {
        (s, m) for s in ("SH010", "SH020") for m in ("ltx-2.3-fast", "ltx-2.3-pro")
    }
    assert all(state != "queued" or int(n) == 0 for n, _, _, _, state, _ in jobs)
    assert all(int(n) <= int(total) <= 4 for n, total, *_ in jobs)
    assert [(int(i), int(total), state) for i, total, _, state in slots] == [(k, 4, "done") for k in range(1, 5)]
    assert {shot for _, _, shot, _ in slots} == {"SH010", "SH020"}


def test_terminal_bars_name_the_shot_and_call_a_draft_a_draft_slate():
    from rich.console import Console

    from promptreel.core.cli.progress import ProgressView

    console = Console(record=True, width=100, force_terminal=True, file=io.StringIO())
    view = ProgressView(console, {"j1": "SH010", "j2": "SH020"}.get)
    with view.shown():
        view(Event(EventKind.QUEUED, "j1", model="draft"))
        view(Event(EventKind.QUEUED, "j2", model="veo-3.1", variant=1))
        view(Event(EventKind.DONE, "j1", model="draft"))
    labels = [t.description for t in view.progress.tasks]
    assert labels == ["SH010  draft slate", "SH020  veo-3.1 #2"]
