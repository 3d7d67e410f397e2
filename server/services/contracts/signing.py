"""A party signs: a fresh face verification, then a PAdES signature with its visible mark
in every document of the sale (seed 001: several documents, one face verification).

All or nothing, and the verification with them: the face verification is
consumed in the same transaction that records the signed PDFs, and every
document is signed in one CPU-pool job that returns all of them or raises; the
PDFs are written to the (content-addressed) store before that transaction. So
a failure while signing any one document (no timestamp, a broken PDF) records
no document of the step, leaves the verification unused (the same
request can simply be repeated with it) and every document as it was. When
the last party has signed, filing follows
(:mod:`server.services.contracts.filing`) in its own transaction: a refused
filing never takes a signature back.
"""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from server.domain import clock
from server.domain.documents import CONTRACT, DOCUMENT_TITLES, signed_stage
from server.errors import Conflict, InvalidInput
from server.models import Party, StoredDocument
from server.services import timeline
from server.services.contracts.access import bound_user, ensure_can_sign, visible_contract
from server.services.contracts.deps import ContractDeps
from server.services.contracts.documents import (
    current_versions,
    put_documents,
    record_documents,
)
from server.services.contracts.hooks import test_hook
from signing.document import signature_field_name
from signing.signature_image import InvalidSignatureImage, decode_base64_image

_IMAGE_REASONS = {
    "bad_base64": "签名图片不是有效的 base64 编码",
    "too_large": "签名图片过大",
    "not_png": "签名图片须为 PNG 格式",
    "corrupt": "签名图片已损坏，无法读取",
    "bad_dimensions": "签名图片尺寸不符合要求",
    "blank": "签名图片为空白，请重新手写签名",
}


def _signature_png(raw: Any) -> bytes:
    if not isinstance(raw, str) or not raw:
        raise InvalidInput({"signature_image": "必填：手写签名的 PNG 图片（base64）"})
    try:
        return decode_base64_image(raw)
    except InvalidSignatureImage as exc:
        raise InvalidInput({"signature_image": _IMAGE_REASONS.get(exc.reason_code, str(exc))},
                           code="invalid_signature_image") from None


# How often a signature is made again because another party's signature was stored
# between reading the documents and storing this one (each retry re-signs the newer PDFs).
_RACE_RETRIES = 3


async def sign(deps: ContractDeps, user_id: str, contract_id: str, payload: dict[str, Any]
               ) -> bool:
    """Sign the caller's field; returns True when every party has now signed.

    The PDFs are signed outside the transaction, which then checks that
    nothing moved meanwhile (state, this party, the documents' versions),
    spends the face verification and stores the result. So no row or
    database lock is held while the CPU pool works: SQLite takes one writer
    at a time, and a lock held across a signature made every other sale's
    write wait for it. A signature made on versions that another party's
    signature has superseded is thrown away and made again on the new ones.
    """
    user = await bound_user(user_id)
    fv_id = payload.get("face_verification_id")
    if not isinstance(fv_id, str) or not fv_id:
        raise InvalidInput({"face_verification_id": "必填：本次签署的人脸核身编号"})
    # Only base64 and the size on the event loop; the image is decoded and checked by
    # the signing job itself, which refuses it before signing anything.
    png = _signature_png(payload.get("signature_image"))
    from signing import worker
    from signing.pades import PartyField, SignerRequest

    await test_hook(deps, "signing", contract_id)
    id_number = deps.cipher.decrypt(user.id_number_enc)
    for _ in range(_RACE_RETRIES):
        contract, me = await visible_contract(contract_id, user_id)
        ensure_can_sign(contract, me)
        now = clock.now()
        field = signature_field_name(me.id)
        versions = await current_versions(contract.id)
        documents = [PartyField(await deps.files.get(v.sha256), field,
                                f"签署{DOCUMENT_TITLES[kind]}") for kind, v in versions.items()]
        request = SignerRequest(name=me.name, id_number=id_number, signature_png=png,
                                signed_at=now)
        try:
            signed = await deps.sign_in_pool(worker.sign_all, documents, request)
        except InvalidSignatureImage as exc:
            raise InvalidInput({"signature_image": _IMAGE_REASONS.get(
                exc.reason_code, str(exc))}, code="invalid_signature_image") from None
        stored = await put_documents(deps, signed)
        async with in_transaction():
            contract, me = await visible_contract(contract_id, user_id, lock=True)
            ensure_can_sign(contract, me)
            if _ids(await current_versions(contract.id)) != _ids(versions):
                continue  # another party signed meanwhile: sign its version instead
            fv = await deps.face.consume(user_id, fv_id, "sign", contract.id,
                                         f"signature:{contract.id}:{me.id}")
            digests = await record_documents(contract, signed_stage(me.id), versions, stored,
                                             signed)
            digest = digests[CONTRACT]
            me.signed_at = now
            me.signature_evidence = {
                "face_verification_id": fv.id, "provider": fv.provider,
                "face_answer_sha256": fv.answer_sha256, "document_sha256": digest,
                "documents": digests, "field": field,
            }
            await me.save(update_fields=["signed_at", "signature_evidence"])
            contract.document_sha256 = digest
            await contract.save(update_fields=["document_sha256", "updated_at"])
            await timeline.append(contract.id, "signed", me.id,
                                  {"document_sha256": digest, "documents": digests,
                                   "face_verification_id": fv.id, "provider": fv.provider})
            remaining = await Party.filter(contract_id=contract.id,
                                           signed_at__isnull=True).count()
        return remaining == 0
    raise Conflict("其他签署人正在同时签署，请重试", code="concurrent_signature")


def _ids(versions: dict[str, StoredDocument]) -> dict[str, int]:
    return {kind: v.id for kind, v in versions.items()}
