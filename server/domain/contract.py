"""The contract's life: its states, the steps between them, and the content it freezes.

Pure: plain values in, plain values out. The services load and store; this
module decides what is allowed.

    draft ──all confirmed──▶ signing ──last signature──▶ filed ──accepted──▶ registration_accepted
      │                        │                          │                        │
      └──────cancel────────────┴──▶ cancelled             └──revoke──▶ revoked     └──▶ registered
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

import orjson

from server.domain.errors import IllegalTransition

# The stored versions of a contract PDF that are the filed document: the original, and
# each renewal of its archive timestamp (a new incremental update, same signatures).
FILED_STAGE = "filed"
ARCHIVE_RENEWED_STAGE = "archive_renewed"
FILED_DOCUMENT_STAGES = (FILED_STAGE, ARCHIVE_RENEWED_STAGE)


class Status(StrEnum):
    DRAFT = "draft"
    SIGNING = "signing"
    FILED = "filed"
    REGISTRATION_ACCEPTED = "registration_accepted"
    REGISTERED = "registered"
    REVOKED = "revoked"
    CANCELLED = "cancelled"


class Step(StrEnum):
    EDIT = "edit"
    CONFIRM = "confirm"
    FREEZE = "freeze"  # every party confirmed the same version
    SIGN = "sign"
    FILE = "file"
    CANCEL = "cancel"
    EXPIRE = "expire"
    ACCEPT_REGISTRATION = "accept_registration"
    COMPLETE_REGISTRATION = "complete_registration"
    REQUEST_REVOCATION = "request_revocation"
    REVOKE = "revoke"
    INVITE = "invite"


# step -> (states it may start from, state it leads to; None = stays)
_RULES: dict[Step, tuple[frozenset[Status], Status | None]] = {
    Step.EDIT: (frozenset({Status.DRAFT}), None),
    Step.CONFIRM: (frozenset({Status.DRAFT}), None),
    Step.INVITE: (frozenset({Status.DRAFT}), None),
    Step.FREEZE: (frozenset({Status.DRAFT}), Status.SIGNING),
    Step.SIGN: (frozenset({Status.SIGNING}), None),
    Step.FILE: (frozenset({Status.SIGNING}), Status.FILED),
    Step.CANCEL: (frozenset({Status.DRAFT, Status.SIGNING}), Status.CANCELLED),
    Step.EXPIRE: (frozenset({Status.DRAFT}), Status.CANCELLED),
    Step.ACCEPT_REGISTRATION: (frozenset({Status.FILED}), Status.REGISTRATION_ACCEPTED),
    Step.COMPLETE_REGISTRATION: (frozenset({Status.REGISTRATION_ACCEPTED}), Status.REGISTERED),
    Step.REQUEST_REVOCATION: (frozenset({Status.FILED}), None),
    Step.REVOKE: (frozenset({Status.FILED}), Status.REVOKED),
}

_STEP_NAMES = {
    Step.EDIT: "修改合同", Step.CONFIRM: "确认合同", Step.INVITE: "邀请签约方",
    Step.FREEZE: "锁定合同", Step.SIGN: "签署", Step.FILE: "备案", Step.CANCEL: "撤销草稿",
    Step.EXPIRE: "草稿过期", Step.ACCEPT_REGISTRATION: "受理登记",
    Step.COMPLETE_REGISTRATION: "完成登记", Step.REQUEST_REVOCATION: "申请注销",
    Step.REVOKE: "注销备案",
}

_STATUS_NAMES = {
    Status.DRAFT: "草稿", Status.SIGNING: "签署中", Status.FILED: "已备案",
    Status.REGISTRATION_ACCEPTED: "已受理登记", Status.REGISTERED: "已登记",
    Status.REVOKED: "已注销", Status.CANCELLED: "已撤销",
}


def status_label(status: str) -> str:
    return _STATUS_NAMES[Status(status)]


def allowed(status: str, step: Step) -> bool:
    return Status(status) in _RULES[step][0]


def advance(status: str, step: Step) -> Status:
    """The state after ``step``; :class:`IllegalTransition` if ``step`` is not allowed now."""
    sources, target = _RULES[step]
    current = Status(status)
    if current not in sources:
        if step is Step.REVOKE or step is Step.REQUEST_REVOCATION:
            if current in (Status.REGISTRATION_ACCEPTED, Status.REGISTERED):
                raise IllegalTransition("登记机构已受理转移登记，合同不能再注销",
                                        code="registration_already_accepted",
                                        details={"status": current.value})
        raise IllegalTransition(
            f"合同当前为「{_STATUS_NAMES[current]}」，不能{_STEP_NAMES[step]}",
            details={"status": current.value, "step": step.value},
        )
    return target or current


def content_hash(content: dict) -> str:
    """SHA-256 of the canonical JSON of what the parties agree to (sorted keys)."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def all_confirmed(confirmed_versions: list[int | None], version: int) -> bool:
    return bool(confirmed_versions) and all(v == version for v in confirmed_versions)
