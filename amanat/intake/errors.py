"""Errors raised by the intake parsers.

The message names where the problem is (file, line, row, column, field) and never quotes the
offending value: intake bytes are personal data and messages end up in logs and on screens.
"""

from __future__ import annotations

from amanat.errors import InvalidInput


class IntakeError(InvalidInput):
    """Input from an intake channel could not be parsed."""

    code = "intake_invalid"

    def __init__(self, problem: str, *, source: str | None = None, line: int | None = None,
                 row: int | None = None, column: str | None = None, field: str | None = None) -> None:
        self.problem = problem
        self.source = source
        self.line = line
        self.row = row
        self.column = column
        super().__init__(self._compose(problem, source, line, row, column, field), field=field)

    @staticmethod
    def _compose(problem: str, source: str | None, line: int | None, row: int | None,
                 column: str | None, field: str | None) -> str:
        where: list[str] = []
        if source:
            where.append(source)
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column}" + (f" ({field})" if field else ""))
        elif field:
            where.append(f"field {field}")
        return f"{', '.join(where)}: {problem}" if where else problem
