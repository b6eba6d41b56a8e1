"""Terminal tables that never cut what a user must read or type: ids, names and timecodes are kept
whole (never an ellipsis), text wraps, and when the terminal is still too narrow the least important
columns are left out, at any width."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # rich is imported when a table is printed: `--help` stays fast
    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment
    from rich.table import Table

WORD = 30  # a longer word may be folded
FOLDED = 8  # the narrowest a text column gets when folding inside words
Role = Literal["id", "text", "extra"]  # id: whole, on one line; text: wraps; extra: dropped first when narrow


@dataclass(frozen=True)
class Col:
    name: str
    role: Role = "text"
    drop: int = 0  # among `extra` columns, the higher is dropped first


def fitted_table(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], width: int) -> Table | Lines:
    """A rich Table of `rows` that fits `width` columns without cutting an `id` column; the columns it
    left out are named in its caption."""
    from rich.table import Table

    def whole(i: int) -> int:
        return max([len(cols[i].name)] + [max((len(line) for line in str(r[i]).splitlines()), default=0) for r in rows])

    fold = False  # on a narrow terminal, text may be folded inside words too

    def least(i: int) -> int:  # an id whole; text wrapped at spaces, so no narrower than its longest word
        if cols[i].role == "id":
            return whole(i)
        words = [len(w) for r in rows for w in str(r[i]).split()] + [len(w) for w in cols[i].name.split()]
        return min(max(words, default=1), FOLDED if fold else WORD)

    shown = list(range(len(cols)))
    dropped: list[str] = []
    order = sorted((i for i, c in enumerate(cols) if c.role == "extra"), key=lambda i: -cols[i].drop)
    # Each column takes its cell padding and a rule (3), plus the table's outer rule (1).
    while sum(least(i) + 3 for i in shown) + 1 > width and order:
        i = order.pop(0)
        shown.remove(i)
        dropped.append(cols[i].name)
    fold = sum(least(i) + 3 for i in shown) + 1 > width
    if sum(least(i) + 3 for i in shown) + 1 > width:  # the ids alone are wider: one "column: value" line each
        lines = [title] if title else []
        for r in rows:
            lines += [f"{'  ' if n else ''}{c.name}: {str(r[n]).replace(chr(10), '; ')}" for n, c in enumerate(cols)]
        return Lines(lines)
    # Widths set here, not left to rich (which cuts no-wrap columns when squeezed): ids whole, the
    # rest from its longest word up, sharing what is left in proportion to what each would like.
    room = width - (3 * len(shown) + 1)
    widths = {i: least(i) for i in shown}
    spare = room - sum(widths.values())
    wants = {i: whole(i) - widths[i] for i in shown if cols[i].role != "id"}
    total = sum(wants.values())
    for i, want in wants.items():
        widths[i] += want if total <= spare else spare * want // total
    table = Table(title=title, caption=f"not shown at this width: {', '.join(dropped)}" if dropped else None)
    for i in shown:
        table.add_column(cols[i].name, width=widths[i], no_wrap=cols[i].role == "id", overflow="fold")
    for r in rows:
        table.add_row(*(str(r[i]) for i in shown))
    return table


class Lines:
    """Plain lines, wrapped at the width (never cut): a value too long for a line goes on in the next."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment

        width = max(options.max_width, 1)
        for line in self.lines:
            for start in range(0, max(len(line), 1), width):
                yield Segment(line[start : start + width])
                yield Segment.line()
