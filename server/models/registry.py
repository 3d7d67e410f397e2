"""The synchronised copy of the registration office's data, its clients, and checks.

The registration office (不动产登记中心) is the source of truth; these rows are
its pushes, kept with the office's ``source_version`` so an older push never
overwrites a newer one. Owners' ID numbers are stored only encrypted, with a
keyed blind index (``id_index``) to find a person's houses.
"""

from tortoise import fields
from tortoise.models import Model


class RegistryClient(Model):
    """A registration office's system, bound to one county-level region."""

    client_id = fields.CharField(pk=True, max_length=40)
    name = fields.CharField(max_length=128)
    region_code = fields.CharField(max_length=6, db_index=True)
    # scrypt$N$r$p$salt$hash: the secret itself is shown once, at creation.
    secret_hash = fields.CharField(max_length=160)
    scopes = fields.CharField(
        max_length=255, default="units:read units:write contracts:read contracts:write")
    webhook_url = fields.CharField(max_length=512, null=True)
    webhook_secret = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "registry_clients"


class RegistrationUnit(Model):
    """不动产单元: one house as the registration office knows it."""

    unit_no = fields.CharField(pk=True, max_length=28)
    region_code = fields.CharField(max_length=6, db_index=True)
    house_no = fields.CharField(max_length=64)
    certificate_no = fields.CharField(max_length=64, unique=True)
    city = fields.CharField(max_length=32)
    district = fields.CharField(max_length=32)
    community = fields.CharField(max_length=64)
    building = fields.CharField(max_length=32)
    unit = fields.CharField(max_length=32)
    room = fields.CharField(max_length=32)
    floor = fields.CharField(max_length=16, default="")
    total_floors = fields.CharField(max_length=16, default="")
    building_area = fields.DecimalField(max_digits=10, decimal_places=2)
    inner_area = fields.DecimalField(max_digits=10, decimal_places=2)
    structure = fields.IntField()
    planned_use = fields.CharField(max_length=32)
    ownership_kind = fields.CharField(max_length=16)  # sole | joint | by_share
    source_version = fields.BigIntField()
    # Keyed hash of the normalised payload: the same version pushed again with
    # the same content is a no-op, with other content a conflict.
    content_hash = fields.CharField(max_length=64, default="")
    # Bumped in the transaction of every restriction change: with
    # source_version it is the "data version" a check records, and lets a
    # check without locks detect that it read a moving target.
    restriction_seq = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Derived states kept on the row, so one row lock guards a house during filing.
    filed_contract_id = fields.CharField(max_length=32, null=True, unique=True)
    registration_accepted = fields.BooleanField(default=False)

    class Meta:
        table = "registration_units"


class Owner(Model):
    """权利人 / 共有人 of a unit, replaced as a whole by every newer unit version."""

    id = fields.IntField(pk=True)
    unit = fields.ForeignKeyField("models.RegistrationUnit", related_name="owners",
                                  on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.CharField(max_length=64)
    id_number_enc = fields.TextField()
    id_index = fields.CharField(max_length=64, db_index=True)
    share = fields.DecimalField(max_digits=7, decimal_places=4, null=True)  # percent
    kind = fields.CharField(max_length=16)  # sole | joint | by_share

    class Meta:
        table = "owners"


class Restriction(Model):
    """查封, 抵押, 异议, 预告登记. Lifted ones stay, with the time they were lifted."""

    id = fields.IntField(pk=True)
    unit = fields.ForeignKeyField("models.RegistrationUnit", related_name="restrictions",
                                  on_delete=fields.CASCADE)
    restriction_id = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)  # seizure | mortgage | objection | advance_notice
    active = fields.BooleanField(default=True)
    details = fields.JSONField(default=dict)  # lender, amount_fen, authority, case_no, note
    beneficiary_index = fields.CharField(max_length=64, null=True)  # advance notice holder
    source_time = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    lifted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "restrictions"
        unique_together = (("unit", "restriction_id"),)


class PropertyCheck(Model):
    """The record of one eligibility check, kept to settle later disputes.

    ``data_version`` is ``v<source_version>-r<restriction_seq>`` of the unit
    as read (``none`` for an unknown certificate); ``snapshot`` lists the
    restrictions and derived states the decision saw. No names or ID numbers:
    the sellers and buyers are recorded by blind index in ``inputs``.
    """

    id = fields.CharField(pk=True, max_length=32)
    user = fields.ForeignKeyField("models.User", related_name="property_checks", null=True)
    purpose = fields.CharField(max_length=32)  # check | draft | filing | ...
    certificate_no = fields.CharField(max_length=64)
    unit_no = fields.CharField(max_length=28, null=True, db_index=True)
    inputs = fields.JSONField(default=dict)
    eligible = fields.BooleanField()
    reasons = fields.JSONField(default=list)
    data_version = fields.CharField(max_length=128)
    snapshot = fields.JSONField(default=dict)
    contract_id = fields.CharField(max_length=32, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "property_checks"
