"""The sandbox speaks Tencent's FaceID server protocol: raw TC3-signed requests against it."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest

from server.adapters.faceid.signing import tc3_authorization, tc3_canonical_request
from tests import flows
from tests.face.conftest import SECRET_ID, SECRET_KEY

PATH = "/sandbox/faceid"
CT = "application/json; charset=utf-8"


def tc3_post(api: httpx.Client, action: str, params: dict, *, secret_id: str = SECRET_ID,
             secret_key: str = SECRET_KEY, timestamp: int | None = None,
             tamper: bytes | None = None, version: str = "2018-03-01") -> dict:
    body = orjson.dumps(params)
    ts = int(time.time()) if timestamp is None else timestamp
    host = api.base_url.netloc.decode()
    canonical, signed = tc3_canonical_request(method="POST", uri=PATH, query="",
                                              headers={"content-type": CT, "host": host},
                                              body=body)
    headers = {
        "Authorization": tc3_authorization(secret_id=secret_id, secret_key=secret_key,
                                           service="faceid", timestamp=ts,
                                           canonical_request=canonical, signed_headers=signed),
        "Content-Type": CT, "X-TC-Action": action, "X-TC-Timestamp": str(ts),
        "X-TC-Version": version, "X-TC-Region": "ap-guangzhou",
    }
    resp = api.post(PATH, content=tamper if tamper is not None else body, headers=headers)
    assert resp.status_code == 200, resp.text  # Tencent answers errors with 200 too
    data = resp.json()
    assert set(data) == {"Response"}
    assert isinstance(data["Response"]["RequestId"], str) and data["Response"]["RequestId"]
    return data["Response"]


def error_code(response: dict) -> str:
    assert set(response) == {"Error", "RequestId"}, response
    assert set(response["Error"]) == {"Code", "Message"}
    assert response["Error"]["Message"]
    return response["Error"]["Code"]


def detect_auth(api: httpx.Client, name: str = "李秀英",
                id_card: str | None = None) -> tuple[str, str]:
    id_card = id_card or flows.make_id_number()
    response = tc3_post(api, "DetectAuth", {"RuleId": "sandbox", "IdCard": id_card,
                                            "Name": name, "Extra": "fv_x"})
    assert "Error" not in response, response
    return response["BizToken"], id_card


def result_text(api: httpx.Client, token: str) -> dict:
    response = tc3_post(api, "GetDetectInfoEnhanced",
                        {"BizToken": token, "RuleId": "sandbox", "InfoType": "1"})
    assert "Error" not in response, response
    return response["Text"]


def scan(api: httpx.Client, token: str, outcome: str) -> httpx.Response:
    return api.post(PATH + "/scan", json={"biz_token": token, "outcome": outcome})


def test_detect_auth_issues_a_biz_token(face_api):
    token, _ = detect_auth(face_api)
    assert len(token) == 36
    text = result_text(face_api, token)
    assert text["ErrCode"] == 17  # flow not finished: nothing scanned yet
    assert text["Name"] is None and text["Sim"] is None and text["Extra"] == "fv_x"


@pytest.mark.parametrize(("outcome", "err", "sim"), [
    ("pass", 0, "92.36"),
    ("low_similarity", 2016, "41.27"),
    ("id_mismatch", 2006, None),
    ("liveness_fail", 1004, None),
])
def test_each_outcome_answers_with_its_text(face_api, outcome, err, sim):
    token, id_card = detect_auth(face_api, "欧阳小锋")
    assert scan(face_api, token, outcome).status_code == 204
    text = result_text(face_api, token)
    assert (text["ErrCode"], text["Sim"]) == (err, sim)
    assert isinstance(text["ErrMsg"], str) and text["ErrMsg"]
    assert (text["Name"], text["IdCard"]) == ("欧阳小锋", id_card)  # echoed
    assert text["LivenessDetail"][0]["Errcode"] == err
    # The result can be pulled again (Tencent keeps it three days).
    assert result_text(face_api, token)["ErrCode"] == err


def test_wrong_secret_key_is_signature_failure(face_api):
    response = tc3_post(face_api, "DetectAuth", {"RuleId": "sandbox"}, secret_key="wrong")
    assert error_code(response) == "AuthFailure.SignatureFailure"


def test_body_changed_after_signing_is_signature_failure(face_api):
    token, _ = detect_auth(face_api)
    signed_for = {"BizToken": token, "RuleId": "sandbox", "InfoType": "1"}
    other = orjson.dumps({"BizToken": token, "RuleId": "sandbox", "InfoType": "0"})
    response = tc3_post(face_api, "GetDetectInfoEnhanced", signed_for, tamper=other)
    assert error_code(response) == "AuthFailure.SignatureFailure"


def test_timestamp_window_is_five_minutes(face_api):
    stale = tc3_post(face_api, "DetectAuth", {"RuleId": "sandbox"},
                     timestamp=int(time.time()) - 360)
    assert error_code(stale) == "AuthFailure.SignatureExpire"
    future = tc3_post(face_api, "DetectAuth", {"RuleId": "sandbox"},
                      timestamp=int(time.time()) + 360)
    assert error_code(future) == "AuthFailure.SignatureExpire"
    # Four minutes off is still inside the window (then it fails on the missing Name).
    inside = tc3_post(face_api, "DetectAuth", {"RuleId": "sandbox", "IdCard": "x"},
                      timestamp=int(time.time()) - 240)
    assert error_code(inside) == "MissingParameter"


def test_unknown_secret_id_and_missing_authorization(face_api):
    response = tc3_post(face_api, "DetectAuth", {"RuleId": "sandbox"}, secret_id="AKIDnobody")
    assert error_code(response) == "AuthFailure.SecretIdNotFound"
    resp = face_api.post(PATH, json={"RuleId": "sandbox"},
                         headers={"X-TC-Action": "DetectAuth"})
    assert error_code(resp.json()["Response"]) == "AuthFailure.InvalidAuthorization"


def test_unknown_action_and_version(face_api):
    assert error_code(tc3_post(face_api, "DeleteEverything", {})) == "InvalidAction"
    assert error_code(tc3_post(face_api, "DetectAuth", {}, version="2017-01-01")) == \
        "NoSuchVersion"


def test_unknown_biz_token_is_illegal(face_api):
    response = tc3_post(face_api, "GetDetectInfoEnhanced",
                        {"BizToken": "00000000-0000-0000-0000-000000000000",
                         "RuleId": "sandbox"})
    assert error_code(response) == "InvalidParameterValue.BizTokenIllegal"


def test_expired_biz_token(face_api):
    token, _ = detect_auth(face_api)
    assert face_api.post(PATH + "/expire", json={"biz_token": token}).status_code == 204
    response = tc3_post(face_api, "GetDetectInfoEnhanced",
                        {"BizToken": token, "RuleId": "sandbox", "InfoType": "1"})
    assert error_code(response) == "InvalidParameterValue.BizTokenExpired"
    late = scan(face_api, token, "pass")
    assert late.status_code == 409 and late.json()["error"]["code"] == "biz_token_expired"


def test_scan_refusals(face_api):
    token, _ = detect_auth(face_api)
    bad = scan(face_api, token, "smile")
    assert bad.status_code == 400 and "outcome" in bad.json()["error"]["details"]["fields"]
    assert scan(face_api, "no-such-token", "pass").status_code == 404
    assert scan(face_api, token, "pass").status_code == 204
    again = scan(face_api, token, "low_similarity")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_scanned"
    assert result_text(face_api, token)["ErrCode"] == 0  # the first scan stands
