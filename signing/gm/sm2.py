"""SM2 signatures with SM3 (GB/T 32918, GM/T 0009), made by the system OpenSSL 3.

Why OpenSSL through ctypes: pyca/cryptography has no SM2, the pure-Python ``gmssl``
takes tens of milliseconds per signature (measured in ``benchmarks/bench_signing.py``),
and OpenSSL 3's EVP interface is already on every Debian machine and in the
container image. Only five calls are needed per signature, so a thin ``ctypes``
binding keeps signing at the cost of the elliptic-curve arithmetic itself.

Keys cross the boundary as DER: PKCS#8 for private keys, SubjectPublicKeyInfo for
public keys (id-ecPublicKey with the SM2 curve, as GM/T 0015 certificates carry
them), so the rest of the project handles them with asn1crypto like any other key.
Signatures are DER ``SEQUENCE { r INTEGER, s INTEGER }``; the signer ID defaults to
GM/T 0009's ``1234567812345678``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from functools import cache

from asn1crypto import keys

from signing.gm.oids import DEFAULT_USER_ID, SM2_CURVE

__all__ = ["Sm2Error", "Sm2PrivateKey", "Sm2PublicKey", "library_version", "sm3"]


class Sm2Error(Exception):
    """OpenSSL refused an SM2 operation (bad key, or SM2 missing from the library)."""


_c_p = ctypes.c_void_p


@cache
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("crypto") or "libcrypto.so.3"
    lib = ctypes.CDLL(name)
    if lib.OpenSSL_version_num() < 0x30000000:
        raise Sm2Error("SM2 signing needs OpenSSL 3's libcrypto")
    sigs = {
        "OpenSSL_version_num": (ctypes.c_ulong, []),
        "OpenSSL_version": (ctypes.c_char_p, [ctypes.c_int]),
        "EVP_PKEY_CTX_new_from_name": (_c_p, [_c_p, ctypes.c_char_p, _c_p]),
        "EVP_PKEY_CTX_new": (_c_p, [_c_p, _c_p]),
        "EVP_PKEY_CTX_free": (None, [_c_p]),
        "EVP_PKEY_keygen_init": (ctypes.c_int, [_c_p]),
        "EVP_PKEY_generate": (ctypes.c_int, [_c_p, ctypes.POINTER(_c_p)]),
        "EVP_PKEY_free": (None, [_c_p]),
        "EVP_PKEY_CTX_set1_id": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.c_int]),
        "EVP_MD_CTX_new": (_c_p, []),
        "EVP_MD_CTX_free": (None, [_c_p]),
        "EVP_MD_CTX_set_pkey_ctx": (None, [_c_p, _c_p]),
        "EVP_sm3": (_c_p, []),
        "EVP_DigestSignInit": (ctypes.c_int, [_c_p, _c_p, _c_p, _c_p, _c_p]),
        "EVP_DigestSign": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t),
                                          ctypes.c_char_p, ctypes.c_size_t]),
        "EVP_DigestVerifyInit": (ctypes.c_int, [_c_p, _c_p, _c_p, _c_p, _c_p]),
        "EVP_DigestVerify": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.c_size_t,
                                            ctypes.c_char_p, ctypes.c_size_t]),
        "EVP_Digest": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_uint), _c_p, _c_p]),
        "d2i_AutoPrivateKey": (_c_p, [_c_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
        "d2i_PUBKEY": (_c_p, [_c_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
        "i2d_PUBKEY": (ctypes.c_int, [_c_p, ctypes.POINTER(ctypes.c_char_p)]),
        "i2d_PrivateKey": (ctypes.c_int, [_c_p, ctypes.POINTER(ctypes.c_char_p)]),
        "CRYPTO_free": (None, [_c_p, ctypes.c_char_p, ctypes.c_int]),
        "ERR_clear_error": (None, []),
    }
    for fn, (res, args) in sigs.items():
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    return lib


def _check(ok: int, what: str) -> None:
    if ok != 1:
        _lib().ERR_clear_error()
        raise Sm2Error(f"OpenSSL: {what} failed")


def _i2d(fn_name: str, pkey: int) -> bytes:
    lib = _lib()
    out = ctypes.c_char_p()
    n = getattr(lib, fn_name)(pkey, ctypes.byref(out))
    if n <= 0:
        raise Sm2Error(f"OpenSSL: {fn_name} failed")
    try:
        return ctypes.string_at(out, n)
    finally:
        lib.CRYPTO_free(ctypes.cast(out, _c_p), None, 0)


def _d2i(fn_name: str, der: bytes) -> int:
    lib = _lib()
    buf = ctypes.c_char_p(der)
    pkey = getattr(lib, fn_name)(None, ctypes.byref(buf), len(der))
    if not pkey:
        lib.ERR_clear_error()
        raise Sm2Error("not an SM2 key")
    return pkey


def library_version() -> str:
    """The libcrypto doing the SM2 work, e.g. ``OpenSSL 3.0.19 27 Jan 2026`` (for reports
    that say who checked a signature)."""
    return _lib().OpenSSL_version(0).decode()


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905) by the same library, for callers without pyca's SM3."""
    lib = _lib()
    out = ctypes.create_string_buffer(32)
    n = ctypes.c_uint(0)
    _check(lib.EVP_Digest(data, len(data), out, ctypes.byref(n), lib.EVP_sm3(), None), "SM3")
    return out.raw[: n.value]


class _Key:
    """Owns one ``EVP_PKEY``; freed with the object. A lock serialises use of the handle,
    because one EVP_PKEY shared by threads is safe to read but the SM2 context is not."""

    def __init__(self, pkey: int) -> None:
        self._pkey = pkey
        self._lock = threading.Lock()

    def __del__(self) -> None:
        pkey, self._pkey = getattr(self, "_pkey", None), None
        if pkey:
            _lib().EVP_PKEY_free(pkey)

    def _md_ctx(self, user_id: bytes) -> tuple[int, int]:
        lib = _lib()
        mctx = lib.EVP_MD_CTX_new()
        pctx = lib.EVP_PKEY_CTX_new(self._pkey, None)
        if not mctx or not pctx:
            raise Sm2Error("OpenSSL: out of memory")
        _check(lib.EVP_PKEY_CTX_set1_id(pctx, user_id, len(user_id)), "setting the SM2 ID")
        lib.EVP_MD_CTX_set_pkey_ctx(mctx, pctx)
        return mctx, pctx

    def _free(self, mctx: int, pctx: int) -> None:
        lib = _lib()
        lib.EVP_MD_CTX_free(mctx)  # does not free a pkey ctx set with set_pkey_ctx
        lib.EVP_PKEY_CTX_free(pctx)


class Sm2PublicKey(_Key):
    @classmethod
    def from_der(cls, spki: bytes) -> Sm2PublicKey:
        """Load a SubjectPublicKeyInfo (id-ecPublicKey on the SM2 curve)."""
        info = keys.PublicKeyInfo.load(spki)
        if info["algorithm"]["parameters"].chosen.dotted != SM2_CURVE:
            raise Sm2Error("the public key is not on the SM2 curve")
        return cls(_d2i("d2i_PUBKEY", spki))

    def to_der(self) -> bytes:
        return _i2d("i2d_PUBKEY", self._pkey)

    def verify(self, signature: bytes, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bool:
        """True when ``signature`` (DER r, s) is this key's SM2-with-SM3 signature of ``data``."""
        lib = _lib()
        with self._lock:
            mctx, pctx = self._md_ctx(user_id)
            try:
                _check(lib.EVP_DigestVerifyInit(mctx, None, lib.EVP_sm3(), None, self._pkey),
                       "SM2 verify init")
                ok = lib.EVP_DigestVerify(mctx, signature, len(signature), data, len(data))
            finally:
                self._free(mctx, pctx)
        if ok != 1:
            lib.ERR_clear_error()
        return ok == 1


class Sm2PrivateKey(_Key):
    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        lib = _lib()
        ctx = lib.EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise Sm2Error("this OpenSSL has no SM2")
        try:
            _check(lib.EVP_PKEY_keygen_init(ctx), "SM2 keygen init")
            pkey = _c_p()
            _check(lib.EVP_PKEY_generate(ctx, ctypes.byref(pkey)), "SM2 keygen")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        return cls(pkey.value)

    @classmethod
    def from_der(cls, pkcs8: bytes) -> Sm2PrivateKey:
        """Load an unencrypted PKCS#8 SM2 key."""
        info = keys.PrivateKeyInfo.load(pkcs8)
        if info["private_key_algorithm"]["parameters"].chosen.dotted != SM2_CURVE:
            raise Sm2Error("the private key is not on the SM2 curve")
        return cls(_d2i("d2i_AutoPrivateKey", pkcs8))

    def to_der(self) -> bytes:
        """Unencrypted PKCS#8; callers that store it encrypt it (signing.keys)."""
        ec_key = keys.ECPrivateKey.load(_i2d("i2d_PrivateKey", self._pkey))
        ec_key["parameters"] = keys.ECDomainParameters("named", SM2_CURVE)
        return keys.PrivateKeyInfo({
            "version": 0,
            "private_key_algorithm": keys.PrivateKeyAlgorithm({
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters("named", SM2_CURVE),
            }),
            "private_key": ec_key,
        }).dump()

    def public_key(self) -> Sm2PublicKey:
        return Sm2PublicKey(_d2i("d2i_PUBKEY", _i2d("i2d_PUBKEY", self._pkey)))

    def sign(self, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        """SM2-with-SM3 signature of ``data`` (the Z value and SM3 are computed here)."""
        lib = _lib()
        with self._lock:
            mctx, pctx = self._md_ctx(user_id)
            try:
                _check(lib.EVP_DigestSignInit(mctx, None, lib.EVP_sm3(), None, self._pkey),
                       "SM2 sign init")
                size = ctypes.c_size_t(0)
                _check(lib.EVP_DigestSign(mctx, None, ctypes.byref(size), data, len(data)),
                       "SM2 signature size")
                out = ctypes.create_string_buffer(size.value)
                _check(lib.EVP_DigestSign(mctx, out, ctypes.byref(size), data, len(data)),
                       "SM2 sign")
            finally:
                self._free(mctx, pctx)
        return out.raw[: size.value]
