"""Building blocks for whole sales over the public API: a house in the registry, people
with bound identities, a contract taken to ``signing`` or ``filed``.

Every helper goes through the same HTTP paths the mini-program and the
registration office use (registry client from the CLI, as an operator would).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import random
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from PIL import Image, ImageDraw

from tests import flows
from tests.live import ROOT, LiveServer

REGION = "421202"
_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def expect(resp: httpx.Response, *statuses: int) -> Any:
    if resp.status_code not in statuses:
        raise AssertionError(f"{resp.request.method} {resp.request.url.path} -> "
                             f"{resp.status_code}: {resp.text}")
    return resp.json() if resp.content else None


def expect_pdf(resp: httpx.Response) -> bytes:
    if resp.status_code != 200 or not resp.content.startswith(b"%PDF-"):
        raise AssertionError(f"{resp.request.url.path} -> {resp.status_code}: {resp.text[:300]}")
    return resp.content


def random_name() -> str:
    return random.choice(_SURNAMES) + "".join(random.choices(_GIVEN, k=2))


@dataclass
class Person:
    name: str
    id_number: str
    token: str
    phone: str = field(default_factory=lambda: "139" + f"{secrets.randbelow(10**8):08d}")
    address: str = "湖北省咸宁市咸安区温泉路88号"

    def party(self, share: float | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "id_number": self.id_number,
                               "phone": self.phone, "address": self.address}
        if share is not None:
            out["share"] = share
        return out

    @property
    def headers(self) -> dict[str, str]:
        return flows.auth(self.token)


def person(api: httpx.Client, name: str | None = None) -> Person:
    """A new sandbox user with a bound identity."""
    name = name or random_name()
    id_number = flows.make_id_number(birth=f"19{random.randint(60, 99)}0{random.randint(1, 9)}"
                                           f"{random.randint(10, 28)}")
    token = flows.login(api, "t-" + secrets.token_hex(8))
    flows.bind_identity(api, token, name, id_number)
    return Person(name, id_number, token)


@dataclass
class RegistryClient:
    client_id: str
    client_secret: str
    region: str
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def registry_client(server: LiveServer, api: httpx.Client, region: str = REGION
                    ) -> RegistryClient:
    out = subprocess.run(
        [sys.executable, "-m", "server", "registry-client", "create", "--name",
         f"登记中心{region}", "--region", region],
        env=server.env, cwd=ROOT, check=True, capture_output=True, text=True)
    creds = json.loads(out.stdout.strip().splitlines()[-1])
    client = RegistryClient(creds["client_id"], creds["client_secret"], region)
    body = expect(api.post("/registry/v1/token", json={
        "client_id": client.client_id, "client_secret": client.client_secret}), 200)
    client.token = body["access_token"]
    return client


def new_unit_no(region: str = REGION) -> str:
    return region + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
                            for _ in range(22))


# Certificate numbers must be unique per database: random ones collided after ~2,000
# houses (a soak run); a counter from a random start cannot.
_CERTIFICATE_SEQ = itertools.count(secrets.randbelow(10**6) * 4)


def unit_payload(owners: list[Person], *, certificate_no: str | None = None,
                 kind: str | None = None, version: int = 1) -> dict[str, Any]:
    kind = kind or ("sole" if len(owners) == 1 else "by_share")
    share = round(100 / len(owners), 4)
    return {
        "certificate_no": certificate_no
        or f"鄂(2024)咸宁市不动产权第{next(_CERTIFICATE_SEQ) % 10**7:07d}号",
        "house_no": f"H{secrets.randbelow(10**8):08d}",
        "location": {"city": "咸宁市", "district": "咸安区", "community": "温泉花园",
                     "building": "3栋", "unit": "2单元", "room": "1202室", "floor": "12",
                     "total_floors": "18"},
        "building_area": "98.56", "inner_area": "82.10", "structure": 3,
        "planned_use": "住宅",
        "owners": [{"name": o.name, "id_number": o.id_number,
                    "share": share if kind == "by_share" else 100 if kind == "sole" else None,
                    "kind": kind} for o in owners],
        "source_version": version,
    }


def register_house(api: httpx.Client, client: RegistryClient, owners: list[Person], **kw
                   ) -> tuple[str, str]:
    """Push a unit owned by ``owners``; returns (unit_no, certificate_no)."""
    unit_no = new_unit_no(client.region)
    payload = unit_payload(owners, **kw)
    if payload["owners"][0]["share"] is None:
        for o in payload["owners"]:
            o.pop("share")
    expect(api.put(f"/registry/v1/units/{unit_no}", json=payload, headers=client.headers),
           200, 201)
    return unit_no, payload["certificate_no"]


def terms(price_fen: int = 123_456_700, **over: Any) -> dict[str, Any]:
    today = date.today()
    out = {
        "price_fen": price_fen,
        "payment_method": "commercial_loan",
        "payment_schedule": [
            {"due_date": (today + timedelta(days=7)).isoformat(), "amount_fen": price_fen // 3,
             "description": "首付款"},
            {"due_date": (today + timedelta(days=40)).isoformat(),
             "amount_fen": price_fen - price_fen // 3, "description": "商业贷款放款"},
        ],
        "deposit_fen": price_fen // 20,
        "funds_custody": True,
        "custody_bank": "中国建设银行咸宁分行",
        "delivery_date": (today + timedelta(days=60)).isoformat(),
        "dispute_resolution": {"method": "arbitration", "institution": "咸宁仲裁委员会"},
    }
    out.update(over)
    return out


def create_draft(api: httpx.Client, initiator: Person, role: str, certificate_no: str,
                 sellers: list[Person], buyers: list[Person],
                 buyer_shares: list[float] | None = None,
                 terms_over: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A draft with :func:`terms` (``terms_over`` replaces some of them, e.g.
    ``{"funds_custody": False}``)."""
    body = {
        "kind": "resale", "certificate_no": certificate_no, "initiator_role": role,
        "sellers": [s.party() for s in sellers],
        "buyers": [b.party(buyer_shares[i] if buyer_shares else None)
                   for i, b in enumerate(buyers)],
        "terms": terms(**(terms_over or {})), **extra,
    }
    return expect(api.post("/api/v1/contracts", json=body, headers=initiator.headers), 201)


def party_id_of(contract: dict[str, Any], who: Person, cipher_free_name: bool = True) -> str:
    """The party id whose masked name and ID fit ``who`` (the API never shows full ones)."""
    masked_id = who.id_number[:4] + "*" * 10 + who.id_number[-4:]
    for p in contract["parties"]:
        if p["id_number_masked"] == masked_id and p["name_masked"][0] == who.name[0]:
            return p["party_id"]
    raise AssertionError(f"{who.name} is not a party")


def invite_and_accept(api: httpx.Client, contract: dict[str, Any], inviter: Person,
                      invitee: Person) -> dict[str, Any]:
    pid = party_id_of(contract, invitee)
    inv = expect(api.post(f"/api/v1/contracts/{contract['id']}/invitations",
                          json={"party_id": pid}, headers=inviter.headers), 201)
    return expect(api.post(f"/api/v1/invitations/{inv['token']}/accept",
                           headers=invitee.headers), 200)


def confirm_all(api: httpx.Client, contract_id: str, people: list[Person]) -> dict[str, Any]:
    view = expect(api.get(f"/api/v1/contracts/{contract_id}", headers=people[0].headers), 200)
    for who in people:
        view = expect(api.post(f"/api/v1/contracts/{contract_id}/confirm",
                               json={"version": view["version"]}, headers=who.headers), 200)
    return view


def signature_png(seed: int | None = None) -> str:
    """A handwritten-looking signature: strokes on a transparent canvas, base64 PNG."""
    rnd = random.Random(seed)
    img = Image.new("RGBA", (400, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    points = [(20 + i * 30, 80 + rnd.randint(-40, 40)) for i in range(12)]
    draw.line(points, fill=(10, 10, 10, 255), width=6, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def sign(api: httpx.Client, contract_id: str, who: Person) -> httpx.Response:
    fv = flows.passed_verification(api, who.token, "sign", contract_id)
    return api.post(f"/api/v1/contracts/{contract_id}/signatures",
                    json={"face_verification_id": fv, "signature_image": signature_png()},
                    headers=who.headers)


@dataclass
class Sale:
    contract_id: str
    sellers: list[Person]
    buyers: list[Person]
    unit_no: str
    certificate_no: str
    client: RegistryClient

    @property
    def people(self) -> list[Person]:
        return [*self.sellers, *self.buyers]


def sale_in_signing(server: LiveServer, api: httpx.Client, *, sellers: int = 1,
                    buyers: int = 1, client: RegistryClient | None = None,
                    seller: Person | None = None,
                    terms_over: dict[str, Any] | None = None) -> Sale:
    """A seller-initiated sale taken to ``signing`` (every party joined and confirmed);
    ``seller``, when given, is the first seller; ``terms_over`` as for :func:`create_draft`
    (the default terms choose funds custody: three documents to sign)."""
    client = client or registry_client(server, api)
    s = [seller or person(api)] + [person(api) for _ in range(sellers - 1)]
    b = [person(api) for _ in range(buyers)]
    unit_no, cert = register_house(api, client, s)
    shares = None if buyers == 1 else [round(100 / buyers, 4)] * (buyers - 1) + [
        100 - round(100 / buyers, 4) * (buyers - 1)]
    contract = create_draft(api, s[0], "seller", cert, s, b, buyer_shares=shares,
                            terms_over=terms_over)
    for other in [*s[1:], *b]:
        contract = invite_and_accept(api, contract, s[0], other)
    view = confirm_all(api, contract["id"], [*s, *b])
    assert view["status"] == "signing", view
    return Sale(contract["id"], s, b, unit_no, cert, client)


def filed_sale(server: LiveServer, api: httpx.Client, **kw: Any) -> Sale:
    sale = sale_in_signing(server, api, **kw)
    for who in sale.people:
        expect(sign(api, sale.contract_id, who), 201)
    return sale
