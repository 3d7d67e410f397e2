"""The check service in-process: the filing's row lock, and the lock-free read's retry.

These run the services directly on a fresh database of this run's backend,
because what they test (who waits for whom, a write landing between two
reads) cannot be timed reliably through HTTP.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator

import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from server.config import Settings
from server.db import tortoise_config
from server.domain.units import parse_restriction, parse_unit
from server.identity_crypto import IdentityCipher
from server.models import PropertyCheck, RegistrationUnit
from server.secrets import load_secrets
from server.services.houses import HouseChecks, UnitRegistry
from server.services.houses import state as state_module
from tests.flows import make_id_number
from tests.houses.support import new_unit_no, owner, run_cli, unit_payload


@pytest.fixture()
async def services(fresh_env: dict[str, str]) -> AsyncIterator[tuple[UnitRegistry, HouseChecks,
                                                                     IdentityCipher]]:
    out = run_cli(fresh_env, "migrate")
    assert out.returncode == 0, out.stderr
    settings = Settings.from_env(fresh_env)
    secrets = load_secrets(settings)
    cipher = IdentityCipher(secrets.identity_encryption_key, secrets.identity_index_key)
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        yield UnitRegistry(cipher), HouseChecks(cipher), cipher
    finally:
        await Tortoise.close_connections()


async def _house(units: UnitRegistry, cipher: IdentityCipher) -> tuple[str, str, str]:
    id_number = make_id_number()
    unit_no = new_unit_no()
    data = parse_unit(unit_no, unit_payload([owner(("王建国", id_number))]))
    await units.upsert(data)
    return unit_no, data.certificate_no, cipher.index(id_number)


def _seizure(rid: str):
    return parse_restriction(rid, {"kind": "seizure"})


async def test_the_filing_lock_makes_a_restriction_wait(services):
    units, checks, cipher = services
    unit_no, cert, seller = await _house(units, cipher)
    async with in_transaction():
        first = await checks.check_house(None, cert, seller_id_index=seller,
                                         purpose="filing", contract_id="c-lock", lock=True)
        assert first.eligible and first.data_version == "v1-r0"
        # A registry push arriving now, from another request (a fresh context).
        push = asyncio.create_task(units.put_restriction(unit_no, "CF-1", _seizure("CF-1")),
                                   context=contextvars.Context())
        await asyncio.sleep(0.5)
        assert not push.done(), "the restriction did not wait for the filing's lock"
        await RegistrationUnit.filter(unit_no=unit_no).update(filed_contract_id="c-lock")
    result = await asyncio.wait_for(push, 10)
    assert result.data_version == "v1-r1"
    second = await checks.check_house(None, cert, seller_id_index=seller, purpose="filing",
                                      contract_id="c-lock")
    assert second.reason_codes == ["seized"] and second.data_version == "v1-r1"
    other = await checks.check_house(None, cert, seller_id_index=seller, purpose="draft",
                                     contract_id="c-other")
    assert other.reason_codes == ["under_filed_contract", "seized"]
    rows = await PropertyCheck.filter(certificate_no=cert).order_by("created_at")
    assert [(r.purpose, r.eligible, r.data_version) for r in rows] == [
        ("filing", True, "v1-r0"), ("filing", False, "v1-r1"), ("draft", False, "v1-r1")]


async def test_a_rolled_back_check_can_be_recorded_again(services):
    units, checks, cipher = services
    unit_no, cert, seller = await _house(units, cipher)
    await units.put_restriction(unit_no, "CF-3", _seizure("CF-3"))
    with pytest.raises(LookupError):
        async with in_transaction():
            outcome = await checks.check_house(None, cert, seller_id_index=seller,
                                               purpose="filing", lock=True)
            # the filing gives up: its transaction rolls back, the record with it
            raise LookupError(outcome.reason_codes)
    assert await PropertyCheck.filter(certificate_no=cert).count() == 0
    await checks.ensure_recorded(outcome)
    await checks.ensure_recorded(outcome)
    [row] = await PropertyCheck.filter(certificate_no=cert)
    assert row.id == outcome.check_id and row.reasons == outcome.reasons
    assert row.created_at == outcome.checked_at and row.data_version == "v1-r1"


async def test_lock_needs_a_transaction(services):
    units, checks, cipher = services
    _, cert, seller = await _house(units, cipher)
    with pytest.raises(RuntimeError):
        await checks.check_house(None, cert, seller_id_index=seller, lock=True)
    assert await PropertyCheck.filter(certificate_no=cert).count() == 0


async def test_a_write_between_reads_is_not_mixed_in(services, monkeypatch):
    """A restriction lands after the unit row was read but before its restrictions were:
    the check must not record the old data version with the new restriction."""
    units, checks, cipher = services
    unit_no, cert, seller = await _house(units, cipher)
    real_read = state_module._read
    calls = 0

    async def racing_read(unit):
        nonlocal calls
        calls += 1
        if calls == 1:
            await units.put_restriction(unit_no, "CF-2", _seizure("CF-2"))
        return await real_read(unit)

    monkeypatch.setattr(state_module, "_read", racing_read)
    outcome = await checks.check_house(None, cert, seller_id_index=seller)
    assert calls == 2
    assert outcome.reason_codes == ["seized"] and outcome.data_version == "v1-r1"


async def test_load_unit_gives_the_owners_in_the_clear(services):
    units, checks, cipher = services
    id_a, id_b = make_id_number(), make_id_number()
    unit_no = new_unit_no()
    data = parse_unit(unit_no, unit_payload([owner(("王建国", id_a), "by_share", 50),
                                             owner(("李秀英", id_b), "by_share", 50)]))
    await units.upsert(data)
    unit, owners = await checks.load_unit(data.certificate_no.replace("(", "（"))
    assert unit is not None and unit.unit_no == unit_no and unit.structure == 3
    assert [(o.name, o.id_number, o.id_index, float(o.share or 0), o.kind) for o in owners] == [
        ("王建国", id_a, cipher.index(id_a), 50.0, "by_share"),
        ("李秀英", id_b, cipher.index(id_b), 50.0, "by_share")]
    assert await checks.load_unit("鄂(2000)无此证第1号") == (None, [])
