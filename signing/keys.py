"""Private keys the platform signs with, and where they live.

Every key the PKI uses (CA keys, the filing seal, the TSA) is wrapped in a
:class:`SigningKey`: something that can produce a raw signature over bytes and
describe itself as an X.509 algorithm. Certificate, CRL, OCSP and timestamp
code only sees that interface, so the same code issues a certificate whether
the CA key is an encrypted file on disk or a key object inside an HSM.

Two stores exist:

* :class:`FileKeyStore`, the embedded default: one PKCS#8 file per key,
  encrypted with a passphrase (PBES2, AES-256-CBC, PBKDF2-SHA256). The key is
  decrypted once per process and the loaded key object is kept, because
  re-parsing it per signature is what makes stock signing slow.
* :class:`Pkcs11KeyStore`: keys generated and kept inside a PKCS#11 token;
  only a handle is held in the process.

Keys for a single signature (the parties' throw-away keys) never touch a
store: see :func:`generate_private_key`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from asn1crypto import algos, keys, pem
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

if TYPE_CHECKING:  # pragma: no cover
    import pkcs11

__all__ = [
    "FileKeyStore",
    "KeySpec",
    "KeyStore",
    "Pkcs11KeyStore",
    "Pkcs11Settings",
    "SigningKey",
    "SoftKey",
    "generate_private_key",
    "open_pkcs11_session",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CURVES: dict[str, tuple[type[ec.EllipticCurve], str]] = {
    "p256": (ec.SECP256R1, "secp256r1"),
    "p384": (ec.SECP384R1, "secp384r1"),
    "p521": (ec.SECP521R1, "secp521r1"),
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class KeySpec:
    """A key type as written in the PKI configuration: ``ec-p256``, ``rsa-3072``."""

    algorithm: str  # "ec" | "rsa"
    parameter: str  # curve name ("p256") or modulus size ("3072")

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        algorithm, _, parameter = text.strip().lower().partition("-")
        if algorithm == "ec" and parameter in _CURVES:
            return cls(algorithm, parameter)
        if algorithm == "rsa" and parameter.isdigit() and int(parameter) >= 2048:
            return cls(algorithm, parameter)
        raise ValueError(f"unsupported key type {text!r} (use ec-p256, ec-p384, rsa-3072, ...)")

    def __str__(self) -> str:
        return f"{self.algorithm}-{self.parameter}"


def generate_private_key(spec: KeySpec) -> PrivateKey:
    """A fresh in-memory key (for CA bootstrap and for one-signature party keys)."""
    if spec.algorithm == "ec":
        return ec.generate_private_key(_CURVES[spec.parameter][0]())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(spec.parameter))


def signature_mechanism(public_key: keys.PublicKeyInfo, digest: str) -> algos.SignedDigestAlgorithm:
    """The X.509/CMS signature algorithm for a key and digest (PKCS#1 v1.5 for RSA)."""
    if public_key.algorithm == "ec":
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    if public_key.algorithm == "rsa":
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})
    raise ValueError(f"unsupported key algorithm {public_key.algorithm}")


class SigningKey(Protocol):
    """A private key that can sign, wherever it is kept."""

    @property
    def public_key_info(self) -> keys.PublicKeyInfo: ...

    def signature_mechanism(self, digest: str) -> algos.SignedDigestAlgorithm: ...

    def sign(self, data: bytes, digest: str) -> bytes:
        """Sign ``data`` (hashing it with ``digest``); DER for ECDSA."""
        ...


class SoftKey:
    """A key held in process memory as a loaded ``cryptography`` key object."""

    def __init__(self, private_key: PrivateKey):
        self.private_key = private_key
        spki = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._public_key_info = keys.PublicKeyInfo.load(spki)

    @property
    def public_key_info(self) -> keys.PublicKeyInfo:
        return self._public_key_info

    def signature_mechanism(self, digest: str) -> algos.SignedDigestAlgorithm:
        return signature_mechanism(self._public_key_info, digest)

    def sign(self, data: bytes, digest: str) -> bytes:
        hash_algo = _HASHES[digest]()
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(data, ec.ECDSA(hash_algo))
        return self.private_key.sign(data, padding.PKCS1v15(), hash_algo)


class KeyStore(Protocol):
    """Somewhere named keys are created once and loaded afterwards."""

    def exists(self, name: str) -> bool: ...

    def load_or_create(self, name: str, spec: KeySpec) -> SigningKey: ...


class FileKeyStore:
    """Passphrase-encrypted PKCS#8 PEM files, one per key, in ``directory``.

    ``kdf_rounds`` is the PBKDF2 iteration count: it is paid once per key
    per process, at load time, never per signature.
    """

    def __init__(self, directory: Path, passphrase: bytes, kdf_rounds: int = 600_000):
        if not passphrase:
            raise ValueError("an empty passphrase would leave the keys unencrypted")
        self.directory = directory
        self._passphrase = passphrase
        self._kdf_rounds = kdf_rounds

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.key.pem"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def load_or_create(self, name: str, spec: KeySpec) -> SoftKey:
        path = self.path(name)
        if path.exists():
            return self.load(name)
        return self.replace(name, spec)

    def load(self, name: str) -> SoftKey:
        path = self.path(name)
        key = serialization.load_pem_private_key(path.read_bytes(), self._passphrase)
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise ValueError(f"{path}: unsupported key type")
        return SoftKey(key)

    def replace(self, name: str, spec: KeySpec) -> SoftKey:
        """A new key under ``name``, replacing any previous one (key rollover)."""
        path = self.path(name)
        key = generate_private_key(spec)
        armored = encrypt_pkcs8(key, self._passphrase, self._kdf_rounds)
        self.directory.mkdir(parents=True, exist_ok=True)
        # create with 0600 from the start: a chmod afterwards leaves a window
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(armored)
        tmp.replace(path)
        return SoftKey(key)


def encrypt_pkcs8(key: PrivateKey, passphrase: bytes, kdf_rounds: int) -> bytes:
    """PEM ``ENCRYPTED PRIVATE KEY`` with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC).

    Written by hand because ``BestAvailableEncryption`` fixes PBKDF2 at 2048
    iterations, far below current guidance; OpenSSL (and so ``cryptography``)
    reads the result back like any other PKCS#8 file.
    """
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt, iv = os.urandom(16), os.urandom(16)
    kek = PBKDF2HMAC(hashes.SHA256(), length=32, salt=salt, iterations=kdf_rounds).derive(
        passphrase
    )
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(kek), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    info = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {
                            "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                            "iteration_count": kdf_rounds,
                            "prf": {"algorithm": "sha256", "parameters": None},
                        },
                    },
                    "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                },
            },
            "encrypted_data": encrypted,
        }
    )
    return pem.armor("ENCRYPTED PRIVATE KEY", info.dump())


@dataclass(frozen=True)
class Pkcs11Settings:
    """Where the HSM-held keys are: module, token and which PKI roles use it.

    Plain data so it pickles into worker processes; each process opens its
    own session (PKCS#11 sessions must not cross a ``fork``).
    """

    module: str
    token_label: str
    user_pin: str
    roles: tuple[str, ...] = ("root", "issuing", "seal")
    label_prefix: str = "contract-pki-"


class Pkcs11Key:
    """A private key object inside a PKCS#11 token, signing through its handle.

    ECDSA uses the raw ``CKM_ECDSA`` mechanism on a digest computed here:
    tokens such as SoftHSM2 lack the hash-and-sign variants.
    """

    def __init__(self, handle: Any, public_key_info: keys.PublicKeyInfo, label: str):
        self.handle = handle
        self.label = label
        self._public_key_info = public_key_info

    @property
    def public_key_info(self) -> keys.PublicKeyInfo:
        return self._public_key_info

    def signature_mechanism(self, digest: str) -> algos.SignedDigestAlgorithm:
        return signature_mechanism(self._public_key_info, digest)

    def sign(self, data: bytes, digest: str) -> bytes:
        from pyhanko.sign.pkcs11 import select_pkcs11_signing_params

        spec = select_pkcs11_signing_params(
            self.signature_mechanism(digest), digest, use_raw_mechanism=True, sign_kwargs={}
        )
        if spec.pre_sign_transform is not None:
            data = spec.pre_sign_transform(data)
        signature = self.handle.sign(data, **spec.sign_kwargs)
        if spec.post_sign_transform is not None:
            signature = spec.post_sign_transform(signature)
        return bytes(signature)


_sessions: dict[tuple[int, str, str], Any] = {}


def open_pkcs11_session(settings: Pkcs11Settings) -> pkcs11.Session:
    """A read-write, logged-in session on the configured token, one per process.

    PKCS#11 logins are per application, not per session: a second login
    fails with CKR_USER_ALREADY_LOGGED_IN, so the session is shared. After
    a ``fork`` it must not be reused (sessions do not survive it); worker
    processes open theirs in the pool initializer.
    """
    import pkcs11

    # keyed by pid too: a dict inherited through fork holds the parent's sessions
    key = (os.getpid(), settings.module, settings.token_label)
    session = _sessions.get(key)
    if session is None:
        lib = pkcs11.lib(settings.module)
        token = lib.get_token(token_label=settings.token_label)
        session = _sessions[key] = token.open(user_pin=settings.user_pin, rw=True)
    return session


class Pkcs11KeyStore:
    """Keys generated inside a PKCS#11 token, found again by label.

    The private key is created with ``CKA_SENSITIVE`` and without
    ``CKA_EXTRACTABLE``: it never leaves the token.
    """

    def __init__(self, session: pkcs11.Session, label_prefix: str = ""):
        self.session = session
        self.label_prefix = label_prefix

    def _label(self, name: str) -> str:
        return self.label_prefix + name

    def _find(self, name: str, object_class: Any) -> list[Any]:
        from pkcs11 import Attribute

        return list(
            self.session.get_objects(
                {Attribute.CLASS: object_class, Attribute.LABEL: self._label(name)}
            )
        )

    def exists(self, name: str) -> bool:
        from pkcs11 import ObjectClass

        return bool(self._find(name, ObjectClass.PRIVATE_KEY))

    def load_or_create(self, name: str, spec: KeySpec) -> Pkcs11Key:
        from pkcs11 import ObjectClass

        private = self._find(name, ObjectClass.PRIVATE_KEY)
        public = self._find(name, ObjectClass.PUBLIC_KEY)
        if len(private) > 1 or len(public) > 1:
            raise ValueError(f"more than one key labelled {self._label(name)!r} in the token")
        if private and public:
            return Pkcs11Key(private[0], _pkcs11_public_key_info(public[0]), self._label(name))
        if private or public:
            raise ValueError(f"key pair {self._label(name)!r} is incomplete in the token")
        pub, priv = self._generate(name, spec)
        return Pkcs11Key(priv, _pkcs11_public_key_info(pub), self._label(name))

    def _generate(self, name: str, spec: KeySpec) -> tuple[Any, Any]:
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_named_curve_parameters

        label = self._label(name)
        key_id = os.urandom(16)
        private_template = {
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
        }
        if spec.algorithm == "ec":
            params = self.session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters(_CURVES[spec.parameter][1])},
                local=True,
            )
            return params.generate_keypair(
                store=True, label=label, id=key_id, private_template=private_template
            )
        return self.session.generate_keypair(
            KeyType.RSA,
            int(spec.parameter),
            store=True,
            label=label,
            id=key_id,
            private_template=private_template,
        )


def _pkcs11_public_key_info(public_key: Any) -> keys.PublicKeyInfo:
    from pkcs11 import KeyType
    from pkcs11.util.ec import encode_ec_public_key
    from pkcs11.util.rsa import encode_rsa_public_key

    if public_key.key_type == KeyType.EC:
        return keys.PublicKeyInfo.load(encode_ec_public_key(public_key))
    if public_key.key_type == KeyType.RSA:
        rsa_key = keys.RSAPublicKey.load(encode_rsa_public_key(public_key))
        return keys.PublicKeyInfo(
            {"algorithm": {"algorithm": "rsa", "parameters": None}, "public_key": rsa_key}
        )
    raise ValueError(f"unsupported key type in token: {public_key.key_type}")
