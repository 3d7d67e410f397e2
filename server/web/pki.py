"""``/pki/``: trust anchors, CA certificates, CRLs, OCSP and the timestamping service.

These are the URLs printed in our certificates (CRL distribution points,
authority information access), so any relying party can check a contract's
signatures without trusting this service's word for it.

Every answer that is signed (CRL, OCSP, timestamp) is made in the CPU pool,
never on the event loop: each is a signature with a CA, responder or TSA
key, and with PKCS#11 keys that is a blocking HSM call.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw

from server.errors import NotFound
from server.http.operations import operation
from signing import worker
from signing.pki.ocsp import decode_get_request, error_response

bp = Blueprint("pki", url_prefix="/pki")

_OCSP_TYPE = "application/ocsp-response"


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
        der = await request.app.ctx.cpu.run(worker.crl_der, name.removesuffix(".crl"))
    except KeyError:
        raise NotFound() from None
    return raw(der, content_type="application/pkix-crl", headers={"Cache-Control": "max-age=300"})


async def _ocsp(request: Request, der: bytes | None) -> HTTPResponse:
    # RFC 6960 §2.3: a request we cannot parse is answered in OCSP's own terms
    # (malformedRequest), which is what an OCSP client can read; never JSON
    if der is None:
        answer = error_response("malformed_request")
    else:
        answer = await request.app.ctx.cpu.run(worker.ocsp_response, der)
    return raw(answer, content_type=_OCSP_TYPE)


@bp.post("/ocsp")
@operation("OCSP (RFC 6960), POST with a DER request", tag="pki",
           responses={200: "application/ocsp-response"},
           validate=False)
async def ocsp_post(request: Request) -> HTTPResponse:
    return await _ocsp(request, request.body or None)


@bp.get("/ocsp/<encoded:path>")
@operation("OCSP (RFC 6960 §A.1), GET with the URL-encoded base64 of a DER request", tag="pki",
           responses={200: "application/ocsp-response"},
           validate=False)
async def ocsp_get(request: Request, encoded: str) -> HTTPResponse:
    try:
        der = decode_get_request(encoded)
    except ValueError:
        der = None
    return await _ocsp(request, der or None)


@bp.post("/tsa")
@operation("RFC 3161 timestamping (the in-process TSA; development and tests)", tag="pki",
           responses={200: "application/timestamp-reply"},
           errors={404: "external_tsa"},
           validate=False)
async def tsa(request: Request) -> HTTPResponse:
    try:
        answer = await request.app.ctx.cpu.run(worker.tsa_response, request.body or b"")
    except RuntimeError:
        raise NotFound("已配置外部时间戳服务", code="external_tsa") from None
    return raw(answer, content_type="application/timestamp-reply")
