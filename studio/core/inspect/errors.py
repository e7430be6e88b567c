"""The one exception type of the inspect package."""

from __future__ import annotations


class InspectError(ValueError):
    """A request the inspect tools cannot serve (unknown layer, non-image file, no model file...).

    The message is one line saying what is wrong and what to do instead.
    """
