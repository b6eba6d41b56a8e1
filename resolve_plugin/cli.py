"""`promptreel resolve ...`: install the Scripts-menu entry, check the connection, list and revert fills."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click


@click.group()
def resolve() -> None:
    """DaVinci Resolve: Scripts-menu entry, connection, fills."""


def _folder(scripts_dir: Path | None, all_users: bool) -> Path:
    from promptreel.install.scripts import scripts_dir as default_dir, system_name

    return scripts_dir or default_dir(system_name(), all_users=all_users)


def _plugins(plugins_dir: Path | None) -> Path | None:
    from promptreel.install.scripts import system_name
    from promptreel.install.workflow_plugin import plugins_dir as default_dir

    return plugins_dir or default_dir(system_name())


def _plugin_step(plugins_dir: Path | None, step) -> None:
    """Install or remove the docked panel; a folder that needs admin rights is said, not a failure of the rest."""
    root = _plugins(plugins_dir)
    if root is None:
        click.echo("Workflow Integration plugin: Resolve Studio loads none on Linux; the panel opens in the browser.")
        return
    try:
        for action in step(root):
            click.echo(str(action))
    except PermissionError:
        click.echo(
            f"Workflow Integration plugin: {root} needs admin rights. Run this command again with sudo "
            "(Windows: as administrator), or give a folder with --plugins-dir."
        )


PLUGINS_HELP = "Resolve Studio's Workflow Integration Plugins folder, if not the usual one."


@resolve.command()
@click.option("--all-users", is_flag=True, help="Install for every user of this machine (needs admin rights).")
@click.option("--scripts-dir", type=click.Path(path_type=Path), help="Resolve's Scripts folder, if not the usual one.")
@click.option("--plugins-dir", type=click.Path(path_type=Path), help=PLUGINS_HELP)
def install(all_users: bool, scripts_dir: Path | None, plugins_dir: Path | None) -> None:
    """Add promptreel to Resolve's Workspace > Scripts menu (Edit page and every page), and its panel to
    Resolve Studio's Workspace > Workflow Integrations (docked; the free edition keeps the browser tab)."""
    from promptreel.install.scripts import install as do_install
    from promptreel.install.workflow_plugin import install as plugin_install

    for action in do_install(_folder(scripts_dir, all_users)):
        click.echo(str(action))
    _plugin_step(plugins_dir, plugin_install)
    click.echo(
        "In Resolve: Workspace > Scripts > promptreel (the menu re-scans when opened); in Resolve Studio, "
        "after a restart, also Workspace > Workflow Integrations > promptreel."
    )


@resolve.command()
@click.option("--all-users", is_flag=True)
@click.option("--scripts-dir", type=click.Path(path_type=Path))
@click.option("--plugins-dir", type=click.Path(path_type=Path), help=PLUGINS_HELP)
def uninstall(all_users: bool, scripts_dir: Path | None, plugins_dir: Path | None) -> None:
    """Remove promptreel's Scripts-menu entry and its Workflow Integration plugin (only what promptreel wrote)."""
    from promptreel.install.scripts import uninstall as do_uninstall
    from promptreel.install.workflow_plugin import uninstall as plugin_uninstall

    for action in do_uninstall(_folder(scripts_dir, all_users)):
        click.echo(str(action))
    _plugin_step(plugins_dir, plugin_uninstall)


@resolve.command()
def status() -> None:
    """Is the entry installed, does Resolve answer, and which mode promptreel will use."""
    from .doctor import resolve_checks

    checks, _ = resolve_checks()
    for check in checks:
        click.echo(f"{'ok ' if check.ok else '-- '} {check.name}: {check.detail}")


@resolve.command()
@click.option("--file-mode", is_flag=True, help="Do not look for Resolve: work through exported OTIO files.")
@click.option("--no-browser", is_flag=True, help="Print the panel's address instead of opening it.")
def panel(file_mode: bool, no_browser: bool) -> None:
    """Open the panel on its own: connected if Resolve answers, else file mode (OTIO out and back)."""
    from .connect import connect
    from .editions import decide
    from .errors import ResolveUnavailable
    from .gateway import DirectGateway
    from .worker import serve

    gw, reason = None, "File mode was asked for (--file-mode)."
    if not file_mode:
        try:
            gw = connect()
            hello = gw.hello()
            external = isinstance(gw, DirectGateway)
            reason = decide(hello.product, hello.version, external=external, bridge=not external).reason
        except ResolveUnavailable as e:
            reason = f"{e.problem} File mode: {decide(None).reason}"
    serve(gw, reason, open_browser=not no_browser)


@resolve.command()
def edits() -> None:
    """List recorded fills (newest last)."""
    from .edits import all_records

    records = all_records()
    if not records:
        click.echo(
            "No fills recorded yet: a fill from the panel or `promptreel resolve fill` is listed here, "
            "with its id for `promptreel resolve revert`."
        )
    for r in records:
        state = f"reverted {r.reverted}" if r.reverted else "in place"
        click.echo(
            f"{r.id}  {r.kind:7}  {r.timeline_name} V{r.placeholder_track}@{r.placeholder_start} "
            f"'{r.placeholder_name}'  {state}"
        )


@resolve.command("fill")
@click.option("--item", "item_ids", multiple=True, metavar="ID", help="Fill only this placeholder (repeatable).")
@click.option("--model", default=None, help="Model for every placeholder (default: the panel's settings).")
@click.option(
    "--frames-from-neighbours",
    is_flag=True,
    help="Give models that take them the last frame of the shot before and the first of the shot after, "
    "read from their media.",
)
@click.option(
    "--multi-shot",
    is_flag=True,
    help="Placeholders back to back on one track become one multi-shot take (Kling 3.0), a shot each.",
)
def fill_placeholders(item_ids, model, frames_from_neighbours: bool, multi_shot: bool) -> None:
    """Fill the placeholders of the open timeline frame-exact, each on the first free track above it (a draft's
    media replaced in place). `resolve revert ID` undoes one."""
    from promptreel.core import settings

    from . import panel_settings
    from .connect import connect
    from .fill import fill as do_fill
    from .worker import clip_maker

    chosen = panel_settings.load()
    gw = connect()
    report = do_fill(
        gw,
        clip_maker(gw),
        item_ids=list(item_ids) or None,
        bit_depth=chosen.bit_depth,
        bin_template=chosen.bin,
        model=model or chosen.model,
        stills_dir=settings.output_dir() / "stills" if frames_from_neighbours else None,
        multi_shot=multi_shot,
    )
    for record in report.edits:
        click.echo(
            f"Filled '{record.placeholder_name}' on V{record.placeholder_track} at frame "
            f"{record.placeholder_start} (edit {record.id})."
        )
    if len(report.edits) > 1:
        click.echo(f"Undo the whole fill: promptreel resolve revert {' '.join(r.id for r in report.edits)}")
    for what, why in report.failed:
        click.echo(f"Not filled: {what}: {why}", err=True)


@resolve.command()
@click.option("--clip", "clip_name", default=None, help="The clip to extend, by its name on the timeline.")
@click.option("--item", "item_id", default=None, help="The timeline item's id (as `resolve edits` and the panel show).")
@click.option("--tail", type=int, default=None, help="Frames to add after the clip's last frame.")
@click.option(
    "--head",
    type=int,
    default=None,
    help="Frames to add before the clip's first frame (a model that takes a last frame on its own).",
)
@click.option("--model", required=True, help="A model that takes a first frame (--head: a last frame on its own).")
@click.option("--prompt", default=None, help="What happens in the new frames.")
def extend(clip_name, item_id, tail: int | None, head: int | None, model: str, prompt) -> None:
    """Extend a clip of the open timeline by exactly --tail frames, continuing from its last frame, or --head
    frames leading into its first; placed right beside it (its own track, else the first free track above),
    moving nothing. `resolve revert` removes it."""
    from promptreel.core.errors import BadInput

    from .connect import connect
    from .extend import extend as do_extend, find_item
    from .worker import clip_maker

    if (clip_name is None) == (item_id is None):
        raise BadInput("Give one of --clip NAME or --item ID.", "E.g. --clip A003_C012 --tail 24.")
    if (tail is None) == (head is None):
        raise BadInput("Give one of --tail FRAMES or --head FRAMES.", "E.g. --tail 24 adds one second at 24 fps.")
    gw = connect()
    edge: Literal["tail", "head"] = "tail" if tail is not None else "head"
    frames = tail if tail is not None else head
    assert frames is not None  # one of --tail and --head, checked above
    record = do_extend(
        gw,
        clip_maker(gw),
        item_id or find_item(gw.timeline(), clip_name),
        frames,
        model=model,
        prompt=prompt,
        edge=edge,
    )
    placed = record.placed
    assert placed is not None  # an extension's record is a placement
    click.echo(
        f"Extended '{record.placeholder_name}' by {frames} frames at its {edge} on V{placed.track} "
        f"at frame {placed.start} (edit {record.id}; `promptreel resolve revert {record.id}` "
        "removes it)."
    )
    click.echo("note: the extension is picture only; the clip's audio is left as it is.", err=True)


@resolve.command("edit")
@click.option("--clip", "clip_name", default=None, help="The clip to edit, by its name on the timeline.")
@click.option("--item", "item_id", default=None, help="The timeline item's id.")
@click.option("--instruction", required=True, help='What to change, e.g. "make it dusk, keep the camera move".')
@click.option("--model", required=True, help="A model that edits video (remix in `promptreel models`).")
@click.option("--handles", type=int, default=0, show_default=True, help="Frames of media sent each side of the clip.")
@click.option(
    "--split",
    "split",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[AT,AT]",
    help="Edit a range longer than the model takes in consecutive pieces: alone, equal pieces; with "
    "AT,AT (frames into the clip, or record timecodes), cut only there.",
)
def edit_clip(clip_name, item_id, instruction: str, model: str, handles: int, split: str | None) -> None:
    """Change a clip of the open timeline with a prompt, keeping its timing: the result becomes a take in its
    Take Selector (the original still showing). `resolve revert` removes the take."""
    from promptreel.core.errors import BadInput

    from .connect import connect
    from .edit import edit as do_edit
    from .extend import find_item
    from .worker import clip_maker

    if (clip_name is None) == (item_id is None):
        raise BadInput("Give one of --clip NAME or --item ID.", 'E.g. --clip A003_C012 --instruction "dusk".')
    gw = connect()
    record = do_edit(
        gw,
        clip_maker(gw),
        item_id or find_item(gw.timeline(), clip_name),
        instruction,
        model=model,
        handles=handles,
        split=split,
    )
    click.echo(
        f"Edited '{record.placeholder_name}': a take in its Take Selector, the original still showing "
        f"(edit {record.id}; `promptreel resolve revert {record.id}` removes it)."
    )


@resolve.command()
@click.argument("edit_ids", nargs=-1, required=True, metavar="EDIT_ID...")
def revert(edit_ids: tuple[str, ...]) -> None:
    """Undo recorded fills in the open Resolve timeline: one, or every placement of a fill (newest first)."""
    from .connect import connect
    from .edits import load
    from .fill import revert_all

    for edit_id in edit_ids:
        load(edit_id)  # an unknown id is refused before reaching for Resolve
    for record in revert_all(connect(), list(edit_ids)):
        click.echo(f"Reverted {record.id}: '{record.placeholder_name}' is back.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(as_json: bool) -> None:
    """Check ffmpeg, PyAV, the data folder, the journal, keys, the catalog and the way into Resolve."""
    import json

    from promptreel.core.errors import UserError

    from .checkup import essential_failures, report_json, report_text, run_all

    class EssentialProblem(UserError):
        exit_code = 1

    checks, decision = run_all()
    click.echo(json.dumps(report_json(checks, decision), indent=2) if as_json else report_text(checks))
    failed = essential_failures(checks)
    if failed:  # the CLI prints this on stderr and exits 1 (a click Exit's code would be lost)
        raise EssentialProblem(
            f"{len(failed)} essential check(s) failed: {', '.join(c.name for c in failed)}.",
            "Apply the fixes printed above, then run `promptreel doctor` again.",
        )
