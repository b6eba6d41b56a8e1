"""The `promptreel` command. Subcommands come from the `promptreel.commands` entry points
and are imported only when run, so `promptreel --help` starts fast."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint, entry_points

import click

from ..errors import UserError

# One-line help for the command list, so listing commands imports none of them.
SUMMARIES = {
    "generate": "Generate a clip from a prompt.",
    "models": "List the models; update the catalog, discover and add fal and Replicate models.",
    "jobs": "List jobs in the journal.",
    "resume": "Collect every unfinished job (polls and downloads; creates nothing).",
    "cost": "Report spend by day, model and project.",
    "keys": "Set, list or delete API keys (names only are ever shown).",
    "demo": "Offline demo: three draft shots, no key, no network.",
    "fill": "Fill the placeholders of a timeline file.",
    "scan": "List the placeholders of a timeline file and what filling them would cost.",
    "revert": "Restore the placeholders of a filled timeline file.",
    "extend": "Extend a clip of a timeline file by exact frames that continue it.",
    "edit": "Change a clip of a timeline file with a prompt, keeping its timing.",
    "storyboard": "Build a timeline of placeholders from a shot list (CSV, Markdown or JSON).",
    "resolve": "DaVinci Resolve: install the Scripts-menu entry, status, list and revert fills.",
    "conform": "Conform a clip to a timeline's rate, length, size and codec.",
    "doctor": "Check ffmpeg, keys, the journal and the connection to Resolve.",
    "prompt": "Show what a model would be sent for a shot written as fields.",
    "templates": "Save, list, show, delete, export and import prompt templates.",
    "stats": "Per model and route: success rate, failures, time to media, cost per second.",
    "provenance": "Trace a conformed clip back to the provider's original and its content credentials.",
    "takes": "List the takes of a shot (A/B, variants, promotions); choose the keeper.",
    "refine": "Refine a take by saying what to change: a new take of the shot, its parent recorded.",
    "cast": "Named references (images, a note) that any prompt calls on with @NAME.",
    "promote": "Render a chosen take again on the final model; replace it in place in a timeline.",
    "db": "The database: schema status and upgrade, copy a seat's journal into a shared PostgreSQL.",
    "sandbox": "Serve loopback fakes of the providers' APIs, to run everything offline without keys.",
    "catalog": "Sign a catalog file (and make the keypair) for `promptreel models update`.",
}


class LazyGroup(click.Group):
    def _eps(self) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in entry_points(group="promptreel.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._eps())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        ep = self._eps().get(name)
        if ep is None:
            return None
        command: click.Command = ep.load()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="promptreel")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """promptreel: AI video generation inside the edit."""
    import logging

    from ..keys import install_log_redaction

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()


def main(argv: list[str] | None = None) -> int:
    try:
        rc = cli.main(args=argv, standalone_mode=False)
        # Without standalone mode click returns a command's `Exit(code)` instead of raising it.
        return rc if isinstance(rc, int) else 0
    except UserError as e:
        from ..keys import redact

        click.echo(f"promptreel: {redact(str(e))}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
