"""The demo world: people, houses and restrictions in 咸宁市, all synthetic.

Names are common Chinese names; ID numbers are made up but carry a correct
GB 11643 check digit and plausible Hubei region and birth-date parts; unit
numbers follow the 28-character layout (6 region + 6 cadastral zone + 7
parcel + 9 building/room). Everything is fixed, so loading it twice gives
the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.domain.clock import CST
from server.domain.identity import check_digit


def _id(first17: str) -> str:
    return first17 + check_digit(first17)


@dataclass(frozen=True)
class Person:
    code: str  # sandbox login code
    name: str
    id_number: str
    role: str  # what the person is there to show


@dataclass(frozen=True)
class DemoRestriction:
    restriction_id: str
    payload: dict[str, Any]
    lifted: bool = False


@dataclass(frozen=True)
class House:
    unit_no: str
    payload: dict[str, Any]  # the registry push, without owners
    owners: tuple[tuple[str, Any, str], ...]  # (person code, share, kind)
    restrictions: tuple[DemoRestriction, ...] = field(default=())


PEOPLE: tuple[Person, ...] = (
    Person("demo-wangjianguo", "王建国", _id("42120219750312351"), "co-owner 50%, free to sell"),
    Person("demo-lixiuying", "李秀英", _id("42120219780906242"), "co-owner 50%, free to sell"),
    Person("demo-zhangwei", "张伟", _id("42120219820415003"), "mortgaged house"),
    Person("demo-liufang", "刘芳", _id("42122119860723006"), "seized house"),
    Person("demo-chenming", "陈明", _id("42122219790130001"), "共同共有 with 赵丽"),
    Person("demo-zhaoli", "赵丽", _id("42122219810518002"), "共同共有 with 陈明"),
    Person("demo-yangyang", "杨洋", _id("42120219900211005"), "house under an objection"),
    Person("demo-huanglei", "黄磊", _id("42128119770809001"), "advance notice for 周敏"),
    Person("demo-zhoumin", "周敏", _id("42120219920302004"), "buyer, owns nothing"),
    Person("demo-wuqiang", "吴强", _id("42120219680927003"), "old mortgage lifted, free"),
)

_T = datetime(2025, 3, 1, 9, 30, tzinfo=CST)


def _unit(cert: str, house_no: str, district: str, community: str, building: str, unit: str,
          room: str, floor: str, total: str, area: float, inner: float, structure: int,
          city: str = "咸宁市") -> dict[str, Any]:
    return {"certificate_no": cert, "house_no": house_no,
            "location": {"city": city, "district": district, "community": community,
                         "building": building, "unit": unit, "room": room, "floor": floor,
                         "total_floors": total},
            "building_area": area, "inner_area": inner, "structure": structure,
            "planned_use": "住宅", "source_version": 1}


HOUSES: tuple[House, ...] = (
    House("421202004011GB00127F00030052",
          _unit("鄂(2019)咸宁市不动产权第0003187号", "XA-0127-03-0502", "咸安区",
                "温泉路88号温泉花园", "3栋", "2单元", "502", "5", "18", 118.36, 96.12, 3),
          (("demo-wangjianguo", 50, "by_share"), ("demo-lixiuying", 50, "by_share"))),
    House("421202003007GB00215F00080161",
          _unit("鄂(2021)咸宁市不动产权第0011542号", "XA-0215-08-1601", "咸安区",
                "银泉大道216号银泉小区", "8栋", "1单元", "1601", "16", "26", 96.50, 79.80, 3),
          (("demo-zhangwei", None, "sole"),),
          (DemoRestriction("DY-2021-003318", {"kind": "mortgage", "lender": "中国建设银行咸宁分行",
                                              "amount_fen": 52_000_000,
                                              "source_time": _T.isoformat()}),)),
    House("421202005002GB00088F00020301",
          _unit("鄂(2020)咸宁市不动产权第0007730号", "XA-0088-02-0301", "咸安区",
                "永安大道117号淦河小区", "2栋", "3单元", "301", "3", "7", 87.20, 72.45, 4),
          (("demo-liufang", None, "sole"),),
          (DemoRestriction("CF-2025-000045", {"kind": "seizure",
                                              "authority": "咸宁市咸安区人民法院",
                                              "case_no": "(2025)鄂1202执保45号",
                                              "source_time": _T.isoformat()}),)),
    House("421222001003GB00046F00050702",
          _unit("鄂(2021)通城县不动产权第0001562号", "TC-0046-05-0702", "通城县",
                "隽水镇银山大道66号锦绣华庭", "5栋", "1单元", "702", "7", "11", 132.08,
                108.66, 3),
          (("demo-chenming", None, "joint"), ("demo-zhaoli", None, "joint"))),
    House("421202002005GB00151F00060903",
          _unit("鄂(2022)咸宁市不动产权第0015208号", "XA-0151-06-0903", "咸安区",
                "十六潭路23号书香名邸", "6栋", "2单元", "903", "9", "18", 105.74, 86.31, 3),
          (("demo-yangyang", None, "sole"),),
          (DemoRestriction("YY-2025-000012", {"kind": "objection",
                                              "note": "利害关系人对登记事项提出异议",
                                              "source_time": _T.isoformat()}),)),
    House("421281001009GB00203F00040401",
          _unit("鄂(2020)赤壁市不动产权第0004418号", "CB-0203-04-0401", "赤壁市",
                "蒲圻街道赤壁大道158号滨湖花园", "4栋", "1单元", "401", "4", "6", 121.40,
                99.58, 4),
          (("demo-huanglei", None, "sole"),),
          (DemoRestriction("YG-2025-000077", {"kind": "advance_notice",
                                              "beneficiary": {"name": "周敏",
                                                              "id_number": "demo-zhoumin"},
                                              "source_time": _T.isoformat()}),)),
    House("421202001012GB00034F00010202",
          _unit("鄂(2016)咸宁市不动产权第0002019号", "XA-0034-01-0202", "咸安区",
                "温泉路12号桂花苑", "1栋", "1单元", "202", "2", "6", 78.90, 64.15, 5),
          (("demo-wuqiang", None, "sole"),),
          (DemoRestriction("DY-2016-000201", {"kind": "mortgage", "lender": "咸宁农村商业银行",
                                              "amount_fen": 20_000_000,
                                              "source_time": datetime(2016, 6, 1, 10, 0,
                                                                      tzinfo=CST).isoformat()},
                           lifted=True),)),
)

REGISTRY_CLIENT_ID = "demo-421202"
REGISTRY_CLIENT_NAME = "咸宁市咸安区不动产登记中心（演示）"
REGISTRY_REGION = "421202"
BY_CODE = {p.code: p for p in PEOPLE}


def unit_payload(house: House) -> dict[str, Any]:
    """The house as the registry would push it (owners with their ID numbers)."""
    owners = [{"name": BY_CODE[code].name, "id_number": BY_CODE[code].id_number,
               "share": share, "kind": kind} for code, share, kind in house.owners]
    return {**house.payload, "owners": owners}


def restriction_payload(r: DemoRestriction) -> dict[str, Any]:
    payload = dict(r.payload)
    holder = payload.get("beneficiary")
    if holder:  # the person is named by login code above; the registry sends the ID number
        payload["beneficiary"] = {**holder, "id_number": BY_CODE[holder["id_number"]].id_number}
    return payload
