"""The whole sale, once, end to end: the quickest signal that the parts fit."""

from __future__ import annotations

from tests import sale as s


def test_seller_initiated_sale_is_filed(live_server, api):
    sale = s.filed_sale(live_server, api, sellers=2, buyers=1)
    view = s.expect(api.get(f"/api/v1/contracts/{sale.contract_id}",
                            headers=sale.sellers[0].headers), 200)
    assert view["status"] == "filed"
    assert view["filing_no"].startswith("421202")
    assert view["filing_state"] == "done"
    assert all(p["signed"] for p in view["parties"])
