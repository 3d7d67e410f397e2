"""Errors of the domain core. The HTTP layer maps them to API errors (400, 409, 422)."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}


class FieldProblems(DomainError):
    """Input that breaks a rule of form; ``fields`` maps a field path to its reason."""

    code = "invalid_input"

    def __init__(self, fields: dict[str, str], message: str = "输入有误") -> None:
        super().__init__(message, details={"fields": fields})
        self.fields = fields


class IllegalTransition(DomainError):
    """The contract's state machine does not allow this step now."""

    code = "invalid_state"


class RuleRefused(DomainError):
    """A business rule refuses the request (e.g. the house is seized)."""

    code = "refused"


class Problems:
    """Collects field problems, then raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, reason: str) -> None:
        self.fields.setdefault(field, reason)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise FieldProblems(dict(self.fields))
