"""`promptreel jobs` and `promptreel resume`: what the journal holds, and collecting what is unfinished."""

from __future__ import annotations

import json

import click

_STATES = [
    "planned",
    "submitting",
    "unknown",
    "queued",
    "running",
    "succeeded",
    "downloading",
    "done",
    "failed",
    "canceled",
]


@click.command()
@click.option(
    "--state", "states", multiple=True, type=click.Choice(_STATES), help="Only jobs in this state (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def jobs(states: tuple[str, ...], as_json: bool) -> None:
    """List jobs in the journal."""
    from ..journal import Journal
    from ..providers.base import JobState

    journal = Journal.open_default()
    try:
        rows = journal.jobs([JobState(s) for s in states] if states else None)
    finally:
        journal.close()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "job_id": j.id,
                        "batch_id": j.batch_id,
                        "model": j.model,
                        "variant": j.variant,
                        "route": j.route_key,
                        "provider_job_id": j.provider_job_id,
                        "state": j.state.value,
                        "created_at": j.created_at,
                        "updated_at": j.updated_at,
                        "sent_at": j.sent_at,
                        "estimated_cost_usd": j.estimated_cost,
                        "cost_usd": j.actual_cost,
                        "output_path": j.output_path,
                        "cached_from": j.cached_from,
                        "error_kind": j.error_kind,
                        "error": j.error_message,
                        "prompt": j.request.get("prompt"),
                    }
                    for j in rows
                ],
                indent=2,
            )
        )
        return
    # Two lines per job, not a table: paths and errors are long and terminals are narrow.
    for j in rows:
        cost = f"${j.actual_cost:.2f}" if j.actual_cost is not None else f"~${j.estimated_cost:.2f}"
        provider = f"  {j.provider_job_id}" if j.provider_job_id else ""
        click.echo(
            f"{j.id}  {j.created_at[:16].replace('T', ' ')}  {j.model} #{j.variant + 1}  {j.state.value}  "
            f"{cost}  {j.route_key}{provider}"
        )
        detail = j.output_path if j.state.value == "done" else j.error_message
        if detail:
            click.echo(f"    {detail}")
    if not rows:
        click.echo("No jobs.")


@click.command()
@click.option(
    "--resend",
    multiple=True,
    metavar="JOB",
    help="Send this job's create again (after an unknown outcome, once you checked the provider).",
)
@click.option("--abandon", multiple=True, metavar="JOB", help="Give up on this job.")
@click.option(
    "--refetch",
    multiple=True,
    metavar="JOB",
    help="Only download this finished job's take again from the provider, into this seat's output folder "
    "(a take another seat made that this one cannot read); no new job, no charge.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts (no progress bars).")
def resume(resend: tuple[str, ...], abandon: tuple[str, ...], refetch: tuple[str, ...], as_json: bool) -> None:
    """Collect every unfinished job (polls and downloads; creates nothing)."""
    import asyncio

    from ..catalog import load_catalog
    from ..engine import Engine
    from ..errors import BadInput
    from ..journal import Journal
    from ..settings import load_settings
    from ..takes import list_takes, record_resumed_takes
    from .progress import event_sink, print_results

    settings = load_settings()
    journal = Journal.open_default()
    try:
        engine = Engine(load_catalog(settings.catalog_file), journal, settings)
        if refetch:
            if resend or abandon:
                raise BadInput(
                    "--refetch cannot be combined with --resend or --abandon.",
                    "Run `promptreel resume --refetch JOB` on its own, then `promptreel resume`.",
                )
            with event_sink(as_json) as on_event:
                results = asyncio.run(engine.refetch(refetch, on_event))
            print_results(results, as_json)
            return
        with event_sink(as_json) as on_event:
            results = asyncio.run(engine.resume(on_event, resend=resend, abandon=abandon))
        groups = record_resumed_takes(journal, results)
        shots = [t.shot for g in groups for t in list_takes(journal, group=g)[:1]]
    finally:
        journal.close()
    if not results and not as_json:
        click.echo("Nothing to resume: every job is finished.")
        return
    print_results(results, as_json)
    if shots and not as_json:
        click.echo(
            f"Recorded the takes of {len(shots)} interrupted generate(s): {', '.join(shots)} (`promptreel takes SHOT`)."
        )
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)
