"""`promptreel db copy`: a seat's SQLite journal moved into the studio's shared database.

Everything that is history goes: jobs (an unfinished one stays collectable from any seat), the ledger,
the cache index, edit records, content credentials, takes, templates, open reservations. Claims do not
(they belong to processes). All in one transaction, and nothing is ever overwritten: a row the shared
database already has (the same job, ledger line, take, template name...) is kept as it is there, so
running the copy twice adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import store

# Table -> its natural key; tables numbered by the database itself (`id`) are matched on every column.
TABLES = {
    "jobs": "id",
    "ledger": "job_id",
    "cache": "key",
    "edits": None,
    "credentials": "sha256",
    "takes": "id",
    "templates": "name",
    "reservations": "job_id",
}


@dataclass
class Copied:
    added: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # rows the target already had
    unlinked: int = 0  # unfinished jobs whose request the target is already making (both stay collectable)


def copy(source: store.Database, target: store.Database) -> Copied:
    done = Copied()
    with target.transaction():
        for table, key in TABLES.items():
            shared = source.columns(table) & target.columns(table)
            columns = sorted(c for c in shared if c != "id" or key == "id")  # numbered rows are numbered anew
            added = kept = 0
            for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
                values = dict(zip(columns, row))
                if (
                    table == "jobs"
                    and values.get("live_key")
                    and target.execute(
                        "SELECT 1 FROM jobs WHERE live_key = ? AND id <> ?", (values["live_key"], values["id"])
                    ).fetchone()
                ):
                    values["live_key"] = None  # the shared database already makes this request: one live job each
                    done.unlinked += 1
                if _insert(target, table, key, values):
                    added += 1
                else:
                    kept += 1
            done.added[table], done.kept[table] = added, kept
        # Budget rows count themselves again from the ledger and reservations now holding this seat's too.
        target.execute("DELETE FROM budgets")
    return done


def _insert(db: store.Database, table: str, key: str | None, values: dict[str, Any]) -> bool:
    """One row in, unless the target has it (by its key, or every column for an auto-numbered table)."""
    names = list(values)
    marks = ", ".join("?" * len(names))
    if key is not None:
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) ON CONFLICT ({key}) DO NOTHING"
        return db.execute(sql, list(values.values())).rowcount == 1
    same = " AND ".join(f"{n} = ?" for n in names)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {marks} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same})"
    )
    return db.execute(sql, [*values.values(), *values.values()]).rowcount == 1
