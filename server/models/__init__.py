"""Persistence models (Tortoise ORM). One module per area of the domain.

These are the adapters' side of the database: the domain rules in
:mod:`server.domain` never import them.
"""

from server.models.agencies import AgencyClient, ServiceRating, StaffMember
from server.models.contracts import (
    Contract,
    ContractEvent,
    Invitation,
    Party,
    StoredDocument,
)
from server.models.documents import DocumentBlob, DocumentChunk
from server.models.face import FaceConsent, FaceVerification
from server.models.filing import FeedEntry, SequenceCounter, WebhookDelivery, WebhookEndpoint
from server.models.idempotency import IdempotencyRecord
from server.models.identity import LoginIdentity, RefreshToken, User
from server.models.pki import CertificateRevocation
from server.models.registry import (
    Owner,
    PropertyCheck,
    RegistrationUnit,
    RegistryClient,
    Restriction,
)
from server.models.statistics import FilingFact
from server.models.verification import FiledDocumentReport

__all__ = [
    "AgencyClient", "CertificateRevocation", "Contract", "ContractEvent", "DocumentBlob",
    "DocumentChunk", "FaceConsent", "FaceVerification", "FeedEntry", "FiledDocumentReport",
    "FilingFact",
    "IdempotencyRecord", "Invitation", "LoginIdentity", "Owner", "Party", "PropertyCheck",
    "RefreshToken", "RegistrationUnit", "RegistryClient", "Restriction", "SequenceCounter",
    "ServiceRating", "StaffMember", "StoredDocument", "User", "WebhookDelivery",
    "WebhookEndpoint"
]
