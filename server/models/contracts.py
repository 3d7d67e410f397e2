"""Contracts, their parties, invitations, stored PDFs and the hash-chained timeline."""

from tortoise import fields
from tortoise.models import Model


class Contract(Model):
    id = fields.CharField(pk=True, max_length=32)
    kind = fields.CharField(max_length=16, default="resale")
    status = fields.CharField(max_length=32, db_index=True)
    version = fields.IntField(default=1)
    content_hash = fields.CharField(max_length=64)
    initiator = fields.ForeignKeyField("models.User", related_name="initiated_contracts")
    initiator_role = fields.CharField(max_length=8)
    certificate_no = fields.CharField(max_length=64)
    unit = fields.ForeignKeyField("models.RegistrationUnit", related_name="contracts",
                                  null=True)
    region_code = fields.CharField(max_length=6, db_index=True)
    terms = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    expires_at = fields.DatetimeField(null=True)
    contract_no = fields.CharField(max_length=32, null=True, unique=True)
    verify_code = fields.CharField(max_length=16, null=True, unique=True)
    verify_token = fields.CharField(max_length=64, null=True)
    frozen_at = fields.DatetimeField(null=True)
    filing_no = fields.CharField(max_length=32, null=True, unique=True)
    filing_state = fields.CharField(max_length=16, null=True)  # sealing | done
    filed_at = fields.DatetimeField(null=True)
    # Set to the unit_no while filed; unique, so the database itself refuses a
    # second active filed contract for one house.
    active_unit_no = fields.CharField(max_length=28, null=True, unique=True)
    document_sha256 = fields.CharField(max_length=64, null=True)
    # When the TSA certificate of the filed PDF's newest archive timestamp expires
    # (null: not known yet; the renewal job reads it from the PDF once)
    archive_expires_at = fields.DatetimeField(null=True, db_index=True)
    registration_case_no = fields.CharField(max_length=64, null=True)
    accepted_at = fields.DatetimeField(null=True)
    registered_at = fields.DatetimeField(null=True)
    revocation_requested_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    replaces = fields.CharField(max_length=32, null=True)  # a change: the revoked original
    # 代理签约: the staff member (staff_members.id) and service point that drafted it
    staff_id = fields.CharField(max_length=32, null=True, db_index=True)
    service_point = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "contracts"


class Party(Model):
    id = fields.CharField(pk=True, max_length=16)
    contract = fields.ForeignKeyField("models.Contract", related_name="parties",
                                      on_delete=fields.CASCADE)
    position = fields.IntField()
    role = fields.CharField(max_length=8)  # seller | buyer | agent
    name = fields.CharField(max_length=64)
    id_number_enc = fields.TextField()
    id_index = fields.CharField(max_length=64, db_index=True)
    phone_enc = fields.TextField()
    address = fields.CharField(max_length=255)
    share = fields.DecimalField(max_digits=7, decimal_places=4, null=True)
    user = fields.ForeignKeyField("models.User", related_name="parties", null=True)
    confirmed_version = fields.IntField(null=True)
    confirmed_hash = fields.CharField(max_length=64, null=True)
    confirmed_at = fields.DatetimeField(null=True)
    signed_at = fields.DatetimeField(null=True)
    signature_evidence = fields.JSONField(null=True)
    revocation_confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "parties"


class Invitation(Model):
    id = fields.IntField(pk=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    contract = fields.ForeignKeyField("models.Contract", related_name="invitations",
                                      on_delete=fields.CASCADE)
    party = fields.ForeignKeyField("models.Party", related_name="invitations",
                                   on_delete=fields.CASCADE)
    created_by = fields.ForeignKeyField("models.User", related_name="invitations_sent")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    used_by = fields.ForeignKeyField("models.User", related_name="invitations_used", null=True)

    class Meta:
        table = "invitations"


class StoredDocument(Model):
    """A PDF of a contract's sale at one stage. The bytes live in the file store by SHA-256.

    A sale has several documents (``kind``: contract, funds_custody_agreement,
    transaction_notice; see :mod:`server.domain.documents`); each has its own
    versions. The newest version of a kind is that document's current PDF
    (for the contract also ``Contract.document_sha256``).
    """

    id = fields.IntField(pk=True)
    contract = fields.ForeignKeyField("models.Contract", related_name="documents",
                                      on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32, default="contract", db_default="contract")
    # draft | prepared | signed:<party> | filed | archive_renewed (a new archive timestamp)
    stage = fields.CharField(max_length=32)
    sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stored_documents"


class ContractEvent(Model):
    """One entry of a contract's timeline: append-only, each with the hash of the one before."""

    id = fields.BigIntField(pk=True)
    contract = fields.ForeignKeyField("models.Contract", related_name="events",
                                      on_delete=fields.CASCADE)
    seq = fields.IntField()
    kind = fields.CharField(max_length=48)
    actor = fields.CharField(max_length=64)
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "contract_events"
        unique_together = (("contract", "seq"),)
