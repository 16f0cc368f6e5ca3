"""One small exception hierarchy; every error carries a stable code for the CLI and the API."""

from __future__ import annotations


class ShequnError(Exception):
    """Base of every error shequn raises on purpose."""

    code = "error"


class InputError(ShequnError):
    """Bad input: names the file, the line or record, and the field."""

    code = "bad_input"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.record = record
        self.field = field
        super().__init__(self.describe())

    def __reduce__(self) -> tuple[object, ...]:
        # keyword-only fields survive pickling (errors cross from the parsing process)
        return (
            _input_error,
            (type(self), self.message, self.file, self.line, self.record, self.field),
        )

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def located(
        self, *, file: str | None = None, line: int | None = None, record: str | None = None
    ) -> InputError:
        """Fill in the location parts the raiser did not know."""
        self.file = self.file or file
        self.line = self.line if self.line is not None else line
        self.record = self.record if self.record is not None else record
        self.args = (self.describe(),)
        return self


def _input_error(
    cls: type[InputError],
    message: str,
    file: str | None,
    line: int | None,
    record: str | None,
    field: str | None,
) -> InputError:
    return cls(message, file=file, line=line, record=record, field=field)


class FormatNotDetected(InputError):
    code = "format_not_detected"


class NotFound(ShequnError):
    code = "not_found"


class Conflict(ShequnError):
    code = "conflict"


class PermissionDenied(ShequnError):
    code = "permission_denied"
