"""Face-verification consents and results. Never an image: only the evidence of a result."""

from tortoise import fields
from tortoise.models import Model


class FaceConsent(Model):
    """The separate, explicit consent PIPL asks for before each face verification."""

    id = fields.IntField(pk=True)
    user = fields.ForeignKeyField("models.User", related_name="face_consents")
    purpose = fields.CharField(max_length=32)
    text_version = fields.CharField(max_length=64)
    consented_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "face_consents"


class FaceVerification(Model):
    """One face verification and its evidence: who, for what, the provider's answer (hashed).

    ``consumed_at`` is set by one conditional UPDATE (``WHERE consumed_at IS NULL``),
    so a passed verification serves exactly one signing step or binding.
    """

    id = fields.CharField(pk=True, max_length=32)
    user = fields.ForeignKeyField("models.User", related_name="face_verifications")
    consent = fields.ForeignKeyField("models.FaceConsent", related_name="verifications")
    purpose = fields.CharField(max_length=32)  # bind_identity | sign | revoke
    # Opaque to this service: the contracts service names it and later consumes it.
    contract_id = fields.CharField(max_length=64, null=True, db_index=True)
    provider = fields.CharField(max_length=32)
    provider_ref = fields.CharField(max_length=128)  # BizToken / verify_id / CertifyId
    provider_request_id = fields.CharField(max_length=128, null=True)  # of the result query
    start_request_id = fields.CharField(max_length=128, null=True)  # of the start call
    provider_code = fields.CharField(max_length=64, null=True)  # the provider's own result code
    # What the phone SDK needs (BizToken / verify_id / CertifyId): nothing secret.
    client_payload = fields.JSONField(null=True)
    # The host-app account the provider was told about (WeChat openid), where it needs one.
    subject = fields.CharField(max_length=128, null=True)
    # The identity the provider was asked to compare against.
    expected_name = fields.CharField(max_length=64)
    expected_id_enc = fields.TextField()
    expected_id_index = fields.CharField(max_length=64, db_index=True)
    status = fields.CharField(max_length=16, default="pending")  # pending | passed | failed
    reason_code = fields.CharField(max_length=64, null=True)
    score = fields.FloatField(null=True)
    answer_sha256 = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()  # the provider token's life
    completed_at = fields.DatetimeField(null=True)
    valid_until = fields.DatetimeField(null=True)  # a passed result's short window
    consumed_at = fields.DatetimeField(null=True)
    consumed_for = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "face_verifications"
