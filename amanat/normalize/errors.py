"""The one error the normalisers raise.

Values are personal data, so a message names the field and the problem ("date: month 13 does not
exist") and never repeats what was typed.
"""

from __future__ import annotations

from amanat.errors import InvalidInput


class NormalizeError(InvalidInput):
    """A value could not be normalised; ``public_message`` says why without quoting it."""

    code = "normalize_error"


def require_text(value: object, what: str) -> str:
    """Return ``value`` if it is a ``str``; otherwise raise NormalizeError naming ``what``."""
    if not isinstance(value, str):
        raise NormalizeError(f"{what}: expected text, got {type(value).__name__}", field=what)
    return value
