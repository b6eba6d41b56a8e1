"""What can go wrong on the Resolve side that the editor can fix."""

from __future__ import annotations

from promptreel.core.errors import UserError


class ResolveUnavailable(UserError):
    """Resolve is not reachable: not running, free edition without the bridge, scripting off, bridge gone."""


class NoProject(UserError):
    pass


class NoTimeline(UserError):
    pass


class NoPlaceholders(UserError):
    pass


class PlaceholderProblem(UserError):
    """A placeholder that cannot be filled as it is (locked track, transition over its edge, ...)."""


class PlacementFailed(UserError):
    """The clip did not land where the placeholder was; what was placed has been removed."""


class ResolveRefused(UserError):
    """Resolve answered an operation with a failure."""
