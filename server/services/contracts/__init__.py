"""The contract use cases, one module each: drafting, invitations, confirmation,
documents, signing, filing, revocation. :class:`ContractDeps` carries the
adapters they share."""

from server.services.contracts.deps import ContractDeps

__all__ = ["ContractDeps"]
