"""The text after `gen:` in a marker or a clip name: free text, or a structured prompt written as
`template=NAME key=value key="value with spaces"` (values shell-quoted). OTIO placeholders and
Resolve's connected mode both read it here, so a marker means the same thing on either path.
"""

from __future__ import annotations

import shlex

from ..errors import BadInput

_TEMPLATE = "template="


def parse_gen_template(text: str) -> tuple[str, dict[str, str]] | None:
    """(template name, values) for a `template=NAME key=value ...` text; None for free text.
    Messages read after the item they are about ("its `gen: …`"): callers prefix the item."""
    text = text.strip()
    if not text.lower().startswith(_TEMPLATE):
        return None
    try:
        tokens = shlex.split(text)
    except ValueError:
        raise BadInput(
            f"its `gen: {text}` has an unclosed quote.",
            'Quote values with spaces once each: gen: template=NAME subject="a fisherman".',
        ) from None
    fields = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key.isidentifier():
            raise BadInput(
                f"'{token}' in its `gen: template=…` is not key=value.",
                'Write gen: template=NAME key=value, quoting values with spaces: subject="a fisherman".',
            )
        fields["template" if key.lower() == "template" else key] = value  # `gen:` is case-blind; so is its key
    template = fields.pop("template")
    if not template:
        raise BadInput(
            "its `gen: template=` names no template.", "Write gen: template=NAME (see `promptreel templates list`)."
        )
    return template, fields
