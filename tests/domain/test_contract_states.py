"""The contract state machine: allowed steps, refused steps, and what they lead to."""

from __future__ import annotations

import pytest

from server.domain.contract import Status, Step, advance, all_confirmed, allowed, content_hash
from server.domain.errors import IllegalTransition

PATHS = [
    (Status.DRAFT, Step.FREEZE, Status.SIGNING),
    (Status.SIGNING, Step.FILE, Status.FILED),
    (Status.FILED, Step.ACCEPT_REGISTRATION, Status.REGISTRATION_ACCEPTED),
    (Status.REGISTRATION_ACCEPTED, Step.COMPLETE_REGISTRATION, Status.REGISTERED),
    (Status.FILED, Step.REVOKE, Status.REVOKED),
    (Status.DRAFT, Step.CANCEL, Status.CANCELLED),
    (Status.SIGNING, Step.CANCEL, Status.CANCELLED),
    (Status.DRAFT, Step.EXPIRE, Status.CANCELLED),
    (Status.DRAFT, Step.EDIT, Status.DRAFT),
    (Status.SIGNING, Step.SIGN, Status.SIGNING),
]


@pytest.mark.parametrize(("start", "step", "end"), PATHS)
def test_allowed_steps(start, step, end):
    assert allowed(start.value, step)
    assert advance(start.value, step) is end


@pytest.mark.parametrize("start", list(Status))
@pytest.mark.parametrize("step", list(Step))
def test_every_other_step_is_refused(start, step):
    if (start, step) in {(s, st) for s, st, _ in PATHS} or (
            start is Status.DRAFT and step in (Step.CONFIRM, Step.INVITE)) or (
            start is Status.FILED and step is Step.REQUEST_REVOCATION):
        return
    with pytest.raises(IllegalTransition) as info:
        advance(start.value, step)
    assert info.value.code in ("invalid_state", "registration_already_accepted")


def test_revocation_after_registry_acceptance_has_its_own_code():
    for status in (Status.REGISTRATION_ACCEPTED, Status.REGISTERED):
        with pytest.raises(IllegalTransition) as info:
            advance(status.value, Step.REVOKE)
        assert info.value.code == "registration_already_accepted"


def test_edit_after_freeze_is_refused():
    with pytest.raises(IllegalTransition, match="签署中"):
        advance("signing", Step.EDIT)


def test_all_confirmed_needs_everyone_on_the_same_version():
    assert all_confirmed([3, 3, 3], 3)
    assert not all_confirmed([3, 2, 3], 3)
    assert not all_confirmed([3, None], 3)
    assert not all_confirmed([], 1)


def test_content_hash_is_canonical():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
