"""The providers' official signing test vectors (docs/reference/face-verification.md)."""

from __future__ import annotations

from server.adapters.faceid.signing import (
    acs3_authorization,
    acs3_canonical_query,
    acs3_canonical_request,
    acs3_signature,
    sha256_hex,
    tc3_authorization,
    tc3_canonical_request,
    tc3_signature,
    tc3_string_to_sign,
    wechat_cert_hash,
)

# Tencent's CVM example (TC3-HMAC-SHA256)
TC3_BODY = (b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
            b'"Name": "instance-name"}]}')
TC3_TS = 1551113065


def _tc3_canonical() -> tuple[str, str]:
    return tc3_canonical_request(
        method="POST", uri="/", query="",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "Host": "cvm.tencentcloudapi.com"}, body=TC3_BODY)


def test_tc3_body_and_canonical_request_hashes():
    assert sha256_hex(TC3_BODY) == \
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    canonical, signed = _tc3_canonical()
    assert signed == "content-type;host"
    assert sha256_hex(canonical.encode()) == \
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"


def test_tc3_signature_and_authorization():
    canonical, signed = _tc3_canonical()
    sts = tc3_string_to_sign(canonical, TC3_TS, "cvm")
    assert sts.splitlines()[:3] == ["TC3-HMAC-SHA256", "1551113065",
                                    "2019-02-25/cvm/tc3_request"]
    expected = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    assert tc3_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", sts, TC3_TS, "cvm") == expected
    auth = tc3_authorization(secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
                             secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", service="cvm",
                             timestamp=TC3_TS, canonical_request=canonical,
                             signed_headers=signed)
    assert auth == ("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/"
                    "2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
                    f"Signature={expected}")


def test_tc3_signature_changes_with_any_byte_of_the_body():
    canonical, _ = tc3_canonical_request(
        method="POST", uri="/", query="",
        headers={"content-type": "application/json; charset=utf-8",
                 "host": "cvm.tencentcloudapi.com"}, body=TC3_BODY.replace(b"1", b"2", 1))
    sts = tc3_string_to_sign(canonical, TC3_TS, "cvm")
    assert tc3_signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", sts, TC3_TS, "cvm") != \
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


# Alibaba's ECS RunInstances example (ACS3-HMAC-SHA256)
ACS3_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-version": "2014-05-26",
}


def test_acs3_vector():
    query = acs3_canonical_query({"RegionId": "cn-shanghai",
                                  "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"})
    assert query == ("ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"
                     "&RegionId=cn-shanghai")
    assert sha256_hex(b"") == ACS3_HEADERS["x-acs-content-sha256"]
    canonical, signed = acs3_canonical_request(
        method="POST", uri="/", query=query, headers=ACS3_HEADERS,
        payload_sha256=ACS3_HEADERS["x-acs-content-sha256"])
    assert signed == ("host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                      "x-acs-signature-nonce;x-acs-version")
    assert sha256_hex(canonical.encode()) == \
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    signature = acs3_signature("YourAccessKeySecret", canonical)
    assert signature == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    assert acs3_authorization("YourAccessKeyId", signed, signature) == (
        f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={signed},"
        f"Signature={signature}")


def test_acs3_percent_encoding_is_rfc3986():
    assert acs3_canonical_query({"b": "a b*~", "a": "张"}) == "a=%E5%BC%A0&b=a%20b%2A~"


def test_wechat_cert_hash_vector():
    assert wechat_cert_hash("IDENTITY_CARD", "张三", "310101199801011234") == \
        "3c241f7ff324977aeb91f173bb2a7b06569e6fd784d5573db34a636d8671108b"
