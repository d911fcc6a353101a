"""What a long linkage job reports as it goes: stages and counts, never values. The CLI draws
it with Rich; the default reports nowhere. Its own module so a caller need not import the
job (pandas, Splink) to report on it."""

from __future__ import annotations


class Progress:
    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...
