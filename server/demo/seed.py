"""Loading the demo world idempotently, and saying what each demo login will see.

Loading goes through the same services as the registry API (so the demo data
passes the same validation), with fixed ``source_version``s and timestamps:
a second run finds every unit ``unchanged``, every restriction unchanged,
every user already bound, and writes nothing.

Demo users' identities are bound **directly** (``User.real_name``,
``id_number_enc``, ``id_index``, ``identity_bound_at``), without a face
verification: this is a development convenience and the command refuses to
run when ``APP_ENV=production``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from server.adapters.login import SandboxLogin
from server.demo import data
from server.domain import clock
from server.domain.units import OWNERSHIP_KINDS, parse_restriction, parse_unit
from server.identity_crypto import IdentityCipher
from server.models import LoginIdentity, RegistryClient, Restriction, User
from server.services.accounts import new_id
from server.services.houses import HouseChecks, UnitRegistry
from server.services.registry_clients import RegistryClients, verify_secret


@dataclass
class LoginRow:
    code: str
    name: str
    id_number: str
    house: str
    check_says: str


@dataclass
class SeedReport:
    changes: list[str] = field(default_factory=list)  # one label per write
    notes: list[str] = field(default_factory=list)
    logins: list[LoginRow] = field(default_factory=list)
    client: dict[str, str] | None = None


def demo_client_secret(index_key: bytes) -> str:
    """The demo client's secret, derived from this installation's dev key: stable across
    runs (so a second run can print it again) yet not the same on two machines."""
    mac = hmac.new(index_key, f"demo-registry-client:{data.REGISTRY_CLIENT_ID}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


async def _bind_user(person: data.Person, cipher: IdentityCipher, report: SeedReport) -> None:
    subject = (await SandboxLogin().exchange(person.code)).subject
    index = cipher.index(person.id_number)
    async with in_transaction():
        login = await LoginIdentity.get_or_none(provider="sandbox", subject=subject)
        if login is None:
            user = await User.create(id=new_id())
            await LoginIdentity.create(provider="sandbox", subject=subject, user=user)
            report.changes.append("user created")
        else:
            user = await User.get(id=login.user_id)  # type: ignore[attr-defined]
        if user.id_index == index:
            return
        if user.id_index is not None:
            report.notes.append(f"{person.code}: already bound to another identity, left as is")
            return
        user.real_name = person.name
        user.id_number_enc = cipher.encrypt(person.id_number)
        user.id_index = index
        user.identity_bound_at = clock.now()
        await user.save(update_fields=["real_name", "id_number_enc", "id_index",
                                       "identity_bound_at"])
        report.changes.append("identity bound")


async def _seed_house(house: data.House, units: UnitRegistry, report: SeedReport) -> None:
    result = await units.upsert(parse_unit(house.unit_no, data.unit_payload(house)))
    if result.result != "unchanged":
        report.changes.append(f"unit {result.result}")
    for r in house.restrictions:
        existing = await Restriction.get_or_none(unit_id=house.unit_no,
                                                 restriction_id=r.restriction_id)
        if existing is not None and not existing.active:
            if not r.lifted:
                report.notes.append(f"restriction {r.restriction_id} was lifted; left lifted")
            continue
        parsed = parse_restriction(r.restriction_id, data.restriction_payload(r))
        put = await units.put_restriction(house.unit_no, r.restriction_id, parsed)
        if put.changed:
            report.changes.append("restriction set")
        if r.lifted:
            await units.lift_restriction(house.unit_no, r.restriction_id)
            report.changes.append("restriction lifted")


async def _seed_client(index_key: bytes, report: SeedReport) -> None:
    secret = demo_client_secret(index_key)
    client = await RegistryClient.get_or_none(client_id=data.REGISTRY_CLIENT_ID)
    if client is None:
        await RegistryClients().create(data.REGISTRY_CLIENT_NAME, data.REGISTRY_REGION,
                                       client_id=data.REGISTRY_CLIENT_ID, client_secret=secret)
        report.changes.append("registry client created")
    elif not verify_secret(secret, client.secret_hash):
        report.notes.append(f"registry client {data.REGISTRY_CLIENT_ID} exists with another "
                            "secret (dev keys changed?); its secret is not shown")
        return
    report.client = {"client_id": data.REGISTRY_CLIENT_ID, "client_secret": secret,
                     "region_code": data.REGISTRY_REGION, "name": data.REGISTRY_CLIENT_NAME}


async def _check_says(checks: HouseChecks, cipher: IdentityCipher, person: data.Person,
                      house: data.House | None) -> str:
    if house is None:
        return "not_owner for any certificate (owns no house)"
    cert = house.payload["certificate_no"]
    me = [cipher.index(person.id_number)]
    verdict = await checks.preview(cert, me)
    if verdict.eligible:
        return "eligible"
    codes = ", ".join(r.code for r in verdict.reasons)
    hints = []
    for r in verdict.reasons:
        if r.code == "mortgaged":
            lender = r.extra["lenders"][0]
            if (await checks.preview(cert, me, mortgage_lender=lender)).eligible:
                hints.append(f'eligible with "mortgage_transfer": {{"lender": "{lender}"}}')
        if r.code == "advance_notice":
            for other in data.PEOPLE:
                buyers = [cipher.index(other.id_number)]
                if other is not person and (await checks.preview(
                        cert, me, buyer_id_indexes=buyers)).eligible:
                    hints.append(f'eligible when the buyer is {other.name} ("buyers": '
                                 f'[{{"id_number": "{other.id_number}"}}])')
    return f"not eligible: {codes}" + (f"; {'; '.join(hints)}" if hints else "")


def _house_of(person: data.Person) -> tuple[data.House, str] | None:
    for house in data.HOUSES:
        for code, share, kind in house.owners:
            if code == person.code:
                loc = house.payload["location"]
                part = OWNERSHIP_KINDS[kind] + (f" {share}%" if kind == "by_share" else "")
                where = (f"{loc['district']}{loc['community']}{loc['building']}{loc['unit']}"
                         f"{loc['room']}")
                return house, f"{house.payload['certificate_no']} ({where}, {part})"
    return None


async def seed(cipher: IdentityCipher, index_key: bytes) -> SeedReport:
    report = SeedReport()
    units = UnitRegistry(cipher)
    for house in data.HOUSES:
        await _seed_house(house, units, report)
    for person in data.PEOPLE:
        await _bind_user(person, cipher, report)
    await _seed_client(index_key, report)
    checks = HouseChecks(cipher)
    for person in data.PEOPLE:
        owned = _house_of(person)
        says = await _check_says(checks, cipher, person, owned[0] if owned else None)
        report.logins.append(LoginRow(person.code, person.name, person.id_number,
                                      owned[1] if owned else "—", says))
    return report
