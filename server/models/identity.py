"""Users, their host-app logins and refresh tokens."""

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A person using the mini-program. A real identity is bound once by face verification."""

    id = fields.CharField(pk=True, max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Bound identity: the name is kept for the contract text, the ID number only
    # encrypted, with a keyed blind index to find the owner's houses.
    real_name = fields.CharField(max_length=64, null=True)
    id_number_enc = fields.TextField(null=True)
    id_index = fields.CharField(max_length=64, null=True, db_index=True)
    identity_bound_at = fields.DatetimeField(null=True)

    class Meta:
        table = "users"


class LoginIdentity(Model):
    """A host-app account (WeChat openid, government-app subject, sandbox code)."""

    id = fields.IntField(pk=True)
    provider = fields.CharField(max_length=32)
    subject = fields.CharField(max_length=128)
    user = fields.ForeignKeyField("models.User", related_name="logins")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "login_identities"
        unique_together = (("provider", "subject"),)


class RefreshToken(Model):
    """One refresh token, stored as a hash. Rotation links a family so reuse revokes it."""

    id = fields.IntField(pk=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    family = fields.CharField(max_length=32, db_index=True)
    user = fields.ForeignKeyField("models.User", related_name="refresh_tokens")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_tokens"
