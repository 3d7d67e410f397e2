"""The pure domain core: rules and the contract's state machine.

Nothing here imports HTTP, SQL or I/O; it works on plain values and raises
:class:`server.domain.errors.DomainError` subclasses, which the service layer
maps to API errors.
"""
