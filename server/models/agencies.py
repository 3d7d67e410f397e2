"""The other agencies that read filed contracts (tax, banks, public security, provident fund),
the staff of the service points who draft contracts at the counter, and the parties'
ratings of the service (好差评)."""

from tortoise import fields
from tortoise.models import Model


class AgencyClient(Model):
    """An agency's system, bound to one region and one kind (what it may read).

    A tax client may have a webhook endpoint (``webhook_endpoints.agency_client_id``):
    filings of its region are pushed to it through the same outbox as the
    registration offices' events.
    """

    client_id = fields.CharField(pk=True, max_length=40)
    name = fields.CharField(max_length=128)
    kind = fields.CharField(max_length=16)  # tax | bank | public_security | provident_fund
    region_code = fields.CharField(max_length=6, db_index=True)
    # scrypt$N$r$p$salt$hash, as for registry clients: the secret is shown once.
    secret_hash = fields.CharField(max_length=160)
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "agency_clients"


class StaffMember(Model):
    """A member of staff at a service point (代理签约), bound to one region.

    ``user`` is the account that authors what the staff member drafts (the
    contract's initiator, an invitation's sender): it has no host-app login and
    no bound identity, so it can never log in to the mini-program nor be a party.
    """

    id = fields.CharField(pk=True, max_length=32)
    name = fields.CharField(max_length=64)
    service_point = fields.CharField(max_length=128)
    region_code = fields.CharField(max_length=6, db_index=True)
    user = fields.ForeignKeyField("models.User", related_name="staff_member")
    password_hash = fields.CharField(max_length=160)
    # The password printed by the CLI is one-time: it only serves to set one's own.
    must_change_password = fields.BooleanField(default=True)
    # Tokens issued before the last change are refused.
    password_changed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_members"


class ServiceRating(Model):
    """One party's rating of the service after filing (好差评): once per party."""

    id = fields.IntField(pk=True)
    contract = fields.ForeignKeyField("models.Contract", related_name="ratings",
                                      on_delete=fields.CASCADE)
    party = fields.ForeignKeyField("models.Party", related_name="ratings",
                                   on_delete=fields.CASCADE)
    score = fields.SmallIntField()
    comment = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "service_ratings"
        unique_together = (("contract", "party"),)
