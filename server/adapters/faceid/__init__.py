"""Face-verification providers (人脸核身) behind one interface, see :mod:`.base`.

:func:`build_provider` picks the one ``FACE_PROVIDER`` names. ``sandbox`` is
the real Tencent adapter pointed at our own sandbox server over HTTP, so the
embedded default runs exactly the code production runs.
"""

from __future__ import annotations

import aiohttp

from server.adapters.faceid.base import FaceProvider
from server.config import Settings
from server.kv import KeyValueStore
from server.secrets import ServiceSecrets

__all__ = ["FaceProvider", "build_provider"]

SANDBOX_RULE_ID = "sandbox"


def build_provider(settings: Settings, secrets: ServiceSecrets, session: aiohttp.ClientSession,
                   kv: KeyValueStore) -> FaceProvider:
    timeout = float(settings.face_provider_timeout_s)
    retries = settings.face_query_retries
    kind = settings.face_provider
    if kind in ("tencent", "sandbox"):
        from server.adapters.faceid.tencent import TencentFaceId

        if kind == "tencent":
            assert settings.tencent_secret_id and settings.tencent_secret_key
            assert settings.tencent_rule_id
            return TencentFaceId(
                secret_id=settings.tencent_secret_id, secret_key=settings.tencent_secret_key,
                rule_id=settings.tencent_rule_id, region=settings.tencent_region,
                endpoint=settings.tencent_endpoint or "https://faceid.tencentcloudapi.com",
                session=session, timeout_s=timeout, retries=retries)
        from server.sandbox import FACEID_PATH
        from server.sandbox.credentials import sandbox_tencent_credentials

        secret_id, secret_key = sandbox_tencent_credentials(settings, secrets)
        return TencentFaceId(
            name="sandbox", secret_id=secret_id, secret_key=secret_key,
            rule_id=settings.tencent_rule_id or SANDBOX_RULE_ID, region=settings.tencent_region,
            endpoint=settings.tencent_endpoint or settings.public_base_url + FACEID_PATH,
            session=session, timeout_s=timeout, retries=retries,
            token_ttl_s=settings.sandbox_face_token_ttl_s,
            client_extra={"scan_path": FACEID_PATH + "/scan"})
    if kind == "wechat":
        from server.adapters.faceid.wechat import WeChatFace

        assert settings.wechat_app_id and settings.wechat_app_secret
        return WeChatFace(app_id=settings.wechat_app_id, app_secret=settings.wechat_app_secret,
                          endpoint=settings.wechat_endpoint, session=session, kv=kv,
                          timeout_s=timeout, retries=retries)
    if kind == "alibaba":
        from server.adapters.faceid.alibaba import AlibabaCloudauth

        assert settings.alibaba_access_key_id and settings.alibaba_access_key_secret
        assert settings.alibaba_scene_id
        return AlibabaCloudauth(
            access_key_id=settings.alibaba_access_key_id,
            access_key_secret=settings.alibaba_access_key_secret,
            scene_id=settings.alibaba_scene_id, endpoint=settings.alibaba_endpoint,
            session=session, timeout_s=timeout, retries=retries)
    raise ValueError(f"unknown face provider {kind!r}")
