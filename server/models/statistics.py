"""The statistics' own narrow copy of each filing (a read model), written in the
transaction that files, revokes or rates, so it never disagrees with the contracts."""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class FilingFact(Model):
    """What the housing authority's statistics need of one filed contract, and nothing
    else (no party, no identity): one index range per region and window answers them."""

    contract_id = fields.CharField(pk=True, max_length=32)
    region_code = fields.CharField(max_length=6)
    district = fields.CharField(max_length=32)  # of the house, at filing
    filed_at = fields.DatetimeField()
    filed_month = fields.CharField(max_length=7)  # YYYY-MM in China time
    revoked_at = fields.DatetimeField(null=True)
    revoked_month = fields.CharField(max_length=7, null=True)
    draft_to_filing_s = fields.BigIntField()
    price_fen = fields.BigIntField()
    building_area_dm2 = fields.BigIntField()  # m² × 100, so sums are exact integers
    ratings = fields.IntField(default=0)
    rating_sum = fields.IntField(default=0)

    class Meta:
        table = "filing_facts"
        indexes = (Index(fields=("region_code", "filed_at")),
                   Index(fields=("region_code", "revoked_at")))
