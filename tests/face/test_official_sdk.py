"""The official Tencent Cloud SDK (``tencentcloud-sdk-python-faceid``), unmodified, against the
sandbox: only its endpoint is configured, as an integrator would do it.

The SDK always posts to ``/`` and signs that canonical URI with ``host`` set to its
endpoint; the sandbox answers there (as well as at ``/sandbox/faceid``, where our own
adapter goes, which tests/face/test_tencent_adapter.py covers).
"""

from __future__ import annotations

import httpx
import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from tests import flows
from tests.face.conftest import SECRET_ID, SECRET_KEY

RULE_ID = "sandbox"


def sdk_client(base_url: str, secret_id: str = SECRET_ID,
               secret_key: str = SECRET_KEY) -> faceid_client.FaceidClient:
    endpoint = httpx.URL(base_url)
    profile = ClientProfile(httpProfile=HttpProfile(
        protocol="http", endpoint=f"{endpoint.host}:{endpoint.port}", reqTimeout=10))
    return faceid_client.FaceidClient(credential.Credential(secret_id, secret_key),
                                      "ap-guangzhou", profile)


def detect_auth(client: faceid_client.FaceidClient, name: str, id_card: str
                ) -> models.DetectAuthResponse:
    req = models.DetectAuthRequest()
    req.RuleId, req.IdCard, req.Name, req.Extra = RULE_ID, id_card, name, "sdk-test"
    return client.DetectAuth(req)


def detect_info(client: faceid_client.FaceidClient, token: str
                ) -> models.GetDetectInfoEnhancedResponse:
    req = models.GetDetectInfoEnhancedRequest()
    req.BizToken, req.RuleId, req.InfoType = token, RULE_ID, "1"
    return client.GetDetectInfoEnhanced(req)


def test_detect_auth_scan_and_result_with_the_official_sdk(face_api: httpx.Client):
    client = sdk_client(str(face_api.base_url))
    id_card = flows.make_id_number()
    started = detect_auth(client, "李秀英", id_card)
    assert started.BizToken and started.RequestId

    pending = detect_info(client, started.BizToken).Text
    assert pending.ErrCode == 17 and pending.Extra == "sdk-test"  # not scanned yet

    scanned = face_api.post("/sandbox/faceid/scan",
                            json={"biz_token": started.BizToken, "outcome": "pass"})
    assert scanned.status_code == 204, scanned.text

    text = detect_info(client, started.BizToken).Text
    assert text.ErrCode == 0
    assert (text.Name, text.IdCard) == ("李秀英", id_card)
    assert float(text.Sim) >= 70
    assert text.LivenessDetail and text.LivenessDetail[0].Errcode == 0


def test_the_sdk_sees_a_failed_comparison_as_tencent_reports_it(face_api: httpx.Client):
    client = sdk_client(str(face_api.base_url))
    started = detect_auth(client, "王建国", flows.make_id_number())
    assert face_api.post("/sandbox/faceid/scan", json={
        "biz_token": started.BizToken, "outcome": "low_similarity"}).status_code == 204
    text = detect_info(client, started.BizToken).Text
    assert text.ErrCode == 2016 and float(text.Sim) < 70


@pytest.mark.parametrize(("secret_id", "secret_key", "code"), [
    (SECRET_ID, SECRET_KEY + "x", "AuthFailure.SignatureFailure"),
    ("AKIDnobody", SECRET_KEY, "AuthFailure.SecretIdNotFound"),
])
def test_wrong_credentials_are_refused_to_the_sdk(face_api: httpx.Client, secret_id: str,
                                                   secret_key: str, code: str):
    client = sdk_client(str(face_api.base_url), secret_id, secret_key)
    with pytest.raises(TencentCloudSDKException) as exc:
        detect_auth(client, "李秀英", flows.make_id_number())
    assert exc.value.code == code and exc.value.requestId


def test_an_unknown_biz_token_is_illegal_to_the_sdk(face_api: httpx.Client):
    with pytest.raises(TencentCloudSDKException) as exc:
        detect_info(sdk_client(str(face_api.base_url)), "00000000-0000-0000-0000-000000000000")
    assert exc.value.code == "InvalidParameterValue.BizTokenIllegal"


async def test_the_sdk_and_our_adapter_reach_one_sandbox(face_server, face_api: httpx.Client):
    """A BizToken from the SDK (at /) is read by our adapter (at /sandbox/faceid), and back."""
    import aiohttp

    from server.adapters.faceid.base import ExpectedIdentity, ResultQuery, StartRequest
    from tests.face.test_tencent_adapter import adapter

    who = ExpectedIdentity("陈晓明", flows.make_id_number("421281", "19900615"))
    client = sdk_client(face_server.base_url)
    started = detect_auth(client, who.name, who.id_number)
    assert face_api.post("/sandbox/faceid/scan", json={
        "biz_token": started.BizToken, "outcome": "pass"}).status_code == 204
    async with aiohttp.ClientSession() as session:
        ours = adapter(session, face_server.base_url + "/sandbox/faceid")
        result = await ours.fetch_result(ResultQuery(provider_ref=started.BizToken,
                                                     reference="sdk-test", identity=who))
        assert (result.finished, result.passed, result.echoed_name) == (True, True, who.name)
        mine = await ours.start(StartRequest(identity=who, reference="fv_sdk_test"))
    assert detect_info(client, mine.provider_ref).Text.ErrCode == 17
