"""``/pki/``: trust anchors, CA certificates, CRLs, OCSP and the timestamping service.

These are the URLs printed in our certificates (CRL distribution points,
authority information access), so any relying party can check a contract's
signatures without trusting this service's word for it.
"""

from __future__ import annotations

import base64
import binascii

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from server.errors import ApiError, NotFound
from server.http.operations import operation

bp = Blueprint("pki", url_prefix="/pki")


def _pki(request: Request):
    return request.app.ctx.pki


@bp.get("/roots.pem")
@operation("The trust anchors (PEM)", tag="pki",
           responses={200: "application/x-pem-file"},
           validate=False)
async def roots(request: Request) -> HTTPResponse:
    return raw(_pki(request).roots_pem(), content_type="application/x-pem-file",
               headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/ca/<name:str>")
@operation("A CA certificate (DER): root.cer, issuing.cer", tag="pki",
           responses={200: "application/pkix-cert"},
           errors={404: "not_found"},
           validate=False)
async def ca_cert(request: Request, name: str) -> HTTPResponse:
    ca = name.removesuffix(".cer")
    try:
        der = _pki(request).ca_cert_der(ca)
    except KeyError:
        raise NotFound() from None
    return raw(der, content_type="application/pkix-cert")


@bp.get("/crl/<name:str>")
@operation("A CA's current CRL (DER)", tag="pki",
           responses={200: "application/pkix-crl"},
           errors={404: "not_found"},
           validate=False)
async def crl(request: Request, name: str) -> HTTPResponse:
    try:
        der = _pki(request).crl_der(name.removesuffix(".crl"))
    except KeyError:
        raise NotFound() from None
    return raw(der, content_type="application/pkix-crl", headers={"Cache-Control": "max-age=300"})


def _ocsp(request: Request, der: bytes) -> HTTPResponse:
    try:
        answer = _pki(request).ocsp_response(der)
    except (ValueError, KeyError, TypeError):
        raise ApiError("OCSP 请求格式有误", code="invalid_ocsp_request") from None
    return raw(answer, content_type="application/ocsp-response")


@bp.post("/ocsp")
@operation("OCSP (RFC 6960), POST with a DER request", tag="pki",
           responses={200: "application/ocsp-response"},
           errors={400: "invalid_ocsp_request"},
           validate=False)
async def ocsp_post(request: Request) -> HTTPResponse:
    return _ocsp(request, request.body or b"")


@bp.get("/ocsp/<encoded:path>")
@operation("OCSP (RFC 6960), GET with a base64 request", tag="pki",
           responses={200: "application/ocsp-response"},
           errors={400: "invalid_ocsp_request"},
           validate=False)
async def ocsp_get(request: Request, encoded: str) -> HTTPResponse:
    try:
        der = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        raise ApiError("OCSP 请求格式有误", code="invalid_ocsp_request") from None
    return _ocsp(request, der)


@bp.post("/tsa")
@operation("RFC 3161 timestamping (in-process TSA)", tag="pki",
           responses={200: "application/timestamp-reply"},
           errors={400: "invalid_tsa_request", 404: "external_tsa"},
           validate=False)
async def tsa(request: Request) -> HTTPResponse:
    try:
        answer = _pki(request).tsa_response(request.body or b"")
    except RuntimeError:
        raise NotFound("已配置外部时间戳服务", code="external_tsa") from None
    except (ValueError, KeyError, TypeError):
        raise ApiError("时间戳请求格式有误", code="invalid_tsa_request") from None
    return raw(answer, content_type="application/timestamp-reply")
