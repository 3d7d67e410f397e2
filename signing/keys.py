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
store: see :func:`new_soft_key`.

SM2 keys (``SIGNING_SUITE=sm2``) are :class:`Sm2SoftKey`: pyca/cryptography has no
SM2, so they sign through :mod:`signing.gm.sm2` (the system OpenSSL 3). They are
kept in the same encrypted PKCS#8 files as every other key; :func:`decrypt_pkcs8`
reads them back, since ``cryptography`` refuses to load a key on the SM2 curve.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from asn1crypto import algos, keys, pem
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from signing.gm import oids as gm_oids
from signing.gm.sm2 import Sm2PrivateKey

if TYPE_CHECKING:  # pragma: no cover
    import pkcs11

__all__ = [
    "FileKeyStore",
    "KeySpec",
    "KeyStore",
    "Pkcs11KeyStore",
    "Pkcs11Settings",
    "SigningKey",
    "Sm2SoftKey",
    "SoftKey",
    "decrypt_pkcs8",
    "generate_private_key",
    "is_sm2",
    "new_soft_key",
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
    """A key type as written in the PKI configuration: ``ec-p256``, ``rsa-3072``, ``sm2``."""

    algorithm: str  # "ec" | "rsa" | "sm2"
    parameter: str  # curve name ("p256", "sm2p256v1") or modulus size ("3072")

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        algorithm, _, parameter = text.strip().lower().partition("-")
        if algorithm == "ec" and parameter in _CURVES:
            return cls(algorithm, parameter)
        if algorithm == "rsa" and parameter.isdigit() and int(parameter) >= 2048:
            return cls(algorithm, parameter)
        if algorithm == "sm2" and parameter in ("", "sm2p256v1"):
            return SM2_KEY
        raise ValueError(
            f"unsupported key type {text!r} (use ec-p256, ec-p384, rsa-3072, sm2, ...)"
        )

    def __str__(self) -> str:
        return "sm2" if self.algorithm == "sm2" else f"{self.algorithm}-{self.parameter}"


#: The one SM2 key type (GB/T 32918 fixes the curve).
SM2_KEY = KeySpec("sm2", "sm2p256v1")


def generate_private_key(spec: KeySpec) -> PrivateKey:
    """A fresh in-memory ``cryptography`` key (ECDSA / RSA; SM2: :func:`new_soft_key`)."""
    if spec.algorithm == "ec":
        return ec.generate_private_key(_CURVES[spec.parameter][0]())
    if spec.algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec.parameter))
    raise ValueError(f"{spec} keys are not cryptography keys (use new_soft_key)")


def new_soft_key(spec: KeySpec) -> SoftKey | Sm2SoftKey:
    """A fresh key in process memory (CA bootstrap, one-signature party keys)."""
    if spec.algorithm == "sm2":
        return Sm2SoftKey(Sm2PrivateKey.generate())
    return SoftKey(generate_private_key(spec))


def is_sm2(public_key: keys.PublicKeyInfo) -> bool:
    """id-ecPublicKey on the SM2 curve: how GM/T 0015 certificates carry an SM2 key."""
    if public_key.algorithm != "ec":
        return False
    params = public_key["algorithm"]["parameters"]
    return params.name == "named" and params.chosen.dotted == gm_oids.SM2_CURVE


def signature_mechanism(public_key: keys.PublicKeyInfo, digest: str) -> algos.SignedDigestAlgorithm:
    """The X.509/CMS signature algorithm for a key and digest (PKCS#1 v1.5 for RSA).

    SM2 is always SM2-with-SM3 (GM/T 0006 1.2.156.10197.1.501, no parameters),
    whatever else the PKI is configured with.
    """
    if is_sm2(public_key):
        if digest != "sm3":
            raise ValueError(f"an SM2 key signs with SM3, not {digest}")
        return algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})
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


class _LoadedKey:
    """What every key held in process memory shares: its public key, its algorithm."""

    _public_key_info: keys.PublicKeyInfo

    @property
    def public_key_info(self) -> keys.PublicKeyInfo:
        return self._public_key_info

    def signature_mechanism(self, digest: str) -> algos.SignedDigestAlgorithm:
        return signature_mechanism(self._public_key_info, digest)


class SoftKey(_LoadedKey):
    """A key held in process memory as a loaded ``cryptography`` key object."""

    def __init__(self, private_key: PrivateKey):
        self.private_key = private_key
        spki = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._public_key_info = keys.PublicKeyInfo.load(spki)

    def sign(self, data: bytes, digest: str) -> bytes:
        hash_algo = _HASHES[digest]()
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(data, ec.ECDSA(hash_algo))
        return self.private_key.sign(data, padding.PKCS1v15(), hash_algo)

    def pkcs8(self) -> bytes:
        """Unencrypted PKCS#8 DER (for :func:`encrypt_pkcs8`)."""
        return self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


class Sm2SoftKey(_LoadedKey):
    """An SM2 key in process memory, signing through the system OpenSSL 3.

    The same interface as :class:`SoftKey`: ``sign(data, "sm3")`` is SM2 with
    SM3 over ``data``, the Z value computed from GM/T 0009's default signer ID;
    the result is DER ``SEQUENCE { r, s }`` like an ECDSA signature.
    """

    def __init__(self, private_key: Sm2PrivateKey):
        self.private_key = private_key
        self._public_key_info = keys.PublicKeyInfo.load(private_key.public_key().to_der())

    def sign(self, data: bytes, digest: str) -> bytes:
        if digest != "sm3":
            raise ValueError(f"an SM2 key signs with SM3, not {digest}")
        return self.private_key.sign(data)

    def pkcs8(self) -> bytes:
        return self.private_key.to_der()


def _kind(key: SoftKey | Sm2SoftKey) -> str:
    if isinstance(key, Sm2SoftKey):
        return "sm2"
    return "ec" if isinstance(key.private_key, ec.EllipticCurvePrivateKey) else "rsa"


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

    def load_or_create(self, name: str, spec: KeySpec) -> SoftKey | Sm2SoftKey:
        path = self.path(name)
        if path.exists():
            key = self.load(name)
            if _kind(key) != spec.algorithm:
                # e.g. SIGNING_SUITE changed on a data directory: never sign with the old key
                raise ValueError(f"{path}: a {_kind(key)} key where the configuration "
                                 f"asks for {spec}")
            return key
        return self.replace(name, spec)

    def load(self, name: str) -> SoftKey | Sm2SoftKey:
        path = self.path(name)
        armored = path.read_bytes()
        try:
            key = serialization.load_pem_private_key(armored, self._passphrase)
        except UnsupportedAlgorithm:
            # cryptography knows no SM2 curve: decrypt the PKCS#8 here, load it by OpenSSL
            return Sm2SoftKey(Sm2PrivateKey.from_der(decrypt_pkcs8(armored, self._passphrase)))
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise ValueError(f"{path}: unsupported key type")
        return SoftKey(key)

    def replace(self, name: str, spec: KeySpec) -> SoftKey | Sm2SoftKey:
        """A new key under ``name``, replacing any previous one (key rollover)."""
        path = self.path(name)
        key = new_soft_key(spec)
        plain = key.pkcs8()
        armored = encrypt_pkcs8(plain, self._passphrase, self._kdf_rounds)
        self.directory.mkdir(parents=True, exist_ok=True)
        # create with 0600 from the start: a chmod afterwards leaves a window
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(armored)
        tmp.replace(path)
        return key


def encrypt_pkcs8(key: PrivateKey | bytes, passphrase: bytes, kdf_rounds: int) -> bytes:
    """PEM ``ENCRYPTED PRIVATE KEY`` with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC).

    Written by hand because ``BestAvailableEncryption`` fixes PBKDF2 at 2048
    iterations, far below current guidance; OpenSSL (and so ``cryptography``)
    reads the result back like any other PKCS#8 file. ``key`` is a
    ``cryptography`` key or an unencrypted PKCS#8 DER (an SM2 key's).
    """
    plain = key if isinstance(key, bytes) else SoftKey(key).pkcs8()
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


def decrypt_pkcs8(armored: bytes, passphrase: bytes) -> bytes:
    """The unencrypted PKCS#8 DER inside a file written by :func:`encrypt_pkcs8`.

    Only that scheme (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) is read: it is
    what this project writes, and it is needed only for keys ``cryptography``
    cannot load (SM2). A wrong passphrase is a ValueError, like cryptography's.
    """
    _, _, der = pem.unarmor(armored)
    info = keys.EncryptedPrivateKeyInfo.load(der)
    scheme = info["encryption_algorithm"]
    if scheme["algorithm"].native != "pbes2":
        raise ValueError("not a PBES2-encrypted key file")
    params = scheme["parameters"]
    kdf = params["key_derivation_func"]["parameters"]
    cipher = params["encryption_scheme"]
    if (
        params["key_derivation_func"]["algorithm"].native != "pbkdf2"
        or kdf["prf"]["algorithm"].native != "sha256"
        or cipher["algorithm"].native != "aes256_cbc"
    ):
        raise ValueError("unsupported key-file encryption (expected PBKDF2-SHA256, AES-256-CBC)")
    kek = PBKDF2HMAC(
        hashes.SHA256(),
        length=32,
        salt=kdf["salt"].native,
        iterations=kdf["iteration_count"].native,
    ).derive(passphrase)
    decryptor = Cipher(algorithms.AES(kek), modes.CBC(cipher["parameters"].native)).decryptor()
    padded = decryptor.update(info["encrypted_data"].native) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise ValueError("bad decrypt: wrong passphrase?") from None


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

        if spec.algorithm == "sm2":
            # PKCS#11 v2.40 has no SM2 mechanism; vendor extensions differ per token
            raise ValueError("SM2 keys in a PKCS#11 token are not supported: with "
                             "SIGNING_SUITE=sm2 the keys are encrypted key files")
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
