"""What the mini-program sees of a contract: masked identities, never a full ID or phone."""

from __future__ import annotations

from typing import Any

from server.domain import clock
from server.domain.contract import status_label
from server.domain.documents import CONTRACT, DOCUMENT_TITLES
from server.domain.identity import mask_id_number, mask_name, mask_phone
from server.identity_crypto import IdentityCipher
from server.models import Contract, Party, RegistrationUnit


def verification_url(base_url: str, contract: Contract, kind: str = CONTRACT) -> str | None:
    """The URL in a document's QR code: the sale's code and token, and for every document
    but the contract its kind (``d``), so each QR code leads to its own document."""
    if not contract.verify_code:
        return None
    url = f"{base_url}/v/{contract.verify_code}?t={contract.verify_token}"
    return url if kind == CONTRACT else f"{url}&d={kind}"


def document_entry(kind: str, sha256: str | None, url: str,
                   verification: str | None) -> dict[str, Any]:
    """One element of a contract's ``documents[]``: the same shape in every API."""
    return {"kind": kind, "title": DOCUMENT_TITLES[kind], "sha256": sha256, "url": url,
            "verification_url": verification}


def documents_view(contract: Contract, kinds: list[str], current: dict[str, str],
                   base_url: str) -> list[dict[str, Any]]:
    """The sale's documents as a party sees them: where to fetch each PDF (a draft
    preview before freezing, ``sha256`` null then) and the URL of its QR code."""
    pdf = f"{base_url}/api/v1/contracts/{contract.id}/document.pdf"
    return [document_entry(kind, current.get(kind),
                           pdf if kind == CONTRACT else f"{pdf}?kind={kind}",
                           verification_url(base_url, contract, kind)
                           if contract.frozen_at else None)
            for kind in kinds]


def party_view(party: Party, cipher: IdentityCipher, version: int, me: Party | None
               ) -> dict[str, Any]:
    return {
        "party_id": party.id,
        "role": party.role,
        "name_masked": mask_name(party.name),
        "id_number_masked": mask_id_number(cipher.decrypt(party.id_number_enc)),
        "phone_masked": mask_phone(cipher.decrypt(party.phone_enc, "phone")),
        "share": float(party.share) if party.share is not None else None,
        "joined": party.user_id is not None,  # type: ignore[attr-defined]
        "confirmed": party.confirmed_version == version,
        "confirmed_version": party.confirmed_version,
        "signed": party.signed_at is not None,
        "signed_at": clock.rfc3339(party.signed_at),
        "revocation_confirmed": party.revocation_confirmed_at is not None,
        "is_me": me is not None and party.id == me.id,
    }


def house_view(unit: RegistrationUnit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {
        "unit_no": unit.unit_no,
        "house_no": unit.house_no,
        "certificate_no": unit.certificate_no,
        "location": {"city": unit.city, "district": unit.district, "community": unit.community,
                     "building": unit.building, "unit": unit.unit, "room": unit.room},
        "building_area": float(unit.building_area),
        "inner_area": float(unit.inner_area),
        "structure": unit.structure,
        "planned_use": unit.planned_use,
    }


def contract_view(contract: Contract, parties: list[Party], unit: RegistrationUnit | None,
                  me: Party | None, cipher: IdentityCipher, base_url: str,
                  documents: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": contract.id,
        "kind": contract.kind,
        "status": contract.status,
        "status_label": status_label(contract.status),
        "version": contract.version,
        "content_hash": contract.content_hash,
        "initiator_role": contract.initiator_role,
        # drawn just before the freeze, shown from the freeze on (confirmation.py)
        "contract_no": contract.contract_no if contract.frozen_at else None,
        "filing_no": contract.filing_no,
        "filing_state": contract.filing_state,
        "revocation_requested_at": clock.rfc3339(contract.revocation_requested_at),
        "verification_url": verification_url(base_url, contract) if contract.frozen_at else None,
        "certificate_no": contract.certificate_no,
        "house": house_view(unit),
        "terms": contract.terms,
        "parties": [party_view(p, cipher, contract.version, me) for p in parties],
        "my_party_id": me.id if me else None,
        "created_at": clock.rfc3339(contract.created_at),
        "updated_at": clock.rfc3339(contract.updated_at),
        "expires_at": clock.rfc3339(contract.expires_at),
        "frozen_at": clock.rfc3339(contract.frozen_at),
        "filed_at": clock.rfc3339(contract.filed_at),
        "revoked_at": clock.rfc3339(contract.revoked_at),
        "cancelled_at": clock.rfc3339(contract.cancelled_at),
        "document_sha256": contract.document_sha256,
        "documents": documents or [],
        "replaces": contract.replaces,
        # 代理签约: where the draft was made for the parties (null: by a party)
        "service_point": contract.service_point,
    }
