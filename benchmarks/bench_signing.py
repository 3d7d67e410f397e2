"""How fast is a party signature, against stock pyHanko doing the same job?

Run: ``.venv/bin/python benchmarks/bench_signing.py [--runs 40]``

All three measurements use the same prepared (fields + certification) contract
PDF, in the same process, one after the other:

(a) baseline: pyHanko the documented way — ``SimpleSigner.load`` from key and
    certificate files (ECDSA P-256, like ours), a ``TextStampStyle`` showing
    the name and time in the CJK font through ``GlyphAccumulatorFactory``
    over the handwriting image, PAdES B-T with pyHanko's in-process
    ``DummyTimeStamper`` (RSA-only, so an RSA-2048 TSA certificate), sync
    ``sign_pdf``. It reuses one certificate; ours issues a new one per
    signature, inside the measured time.
(b) ours: :func:`signing.pades.sign_party` — fresh key and certificate,
    pre-rendered image appearance, B-T plus embedded OCSP responses; once
    from the raw canvas PNG, once from the normalised PNG the app stores
    at upload (smaller to decode).
(c) ours: :func:`signing.pades.file_document` on the fully signed contract —
    seal signature (B-T), validation data and document timestamp (B-LTA).
(d) ours: one party's step in a sale with funds custody — its signature in the
    contract, the funds-custody agreement and the transaction notice with one
    key (:func:`signing.pades.sign_party_documents`, what one face verification
    signs), against three separate ``sign_party`` calls (a key each).
(e) the SM2 suite (``SIGNING_SUITE=sm2``): the same party signature as (b)
    with an SM2 PKI in the same run — SM2 key and certificate, SM3 digests,
    SM2 timestamp and OCSP — against (b) (target: at most 2× the P-256 time);
    then the raw signature primitive alone: our SM2 (OpenSSL 3 through
    ctypes), ECDSA P-256 (pyca/cryptography), and the pure-Python ``gmssl``
    (why the project does not sign with a pure-Python SM2).

Prints markdown tables of median / p90 milliseconds and the ratios.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asn1crypto import keys as asn1_keys  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory  # noqa: E402
from pyhanko.pdf_utils.images import PdfImage  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.text import TextBoxStyle  # noqa: E402
from pyhanko.sign import fields, signers, timestamps  # noqa: E402
from pyhanko.stamp import TextStampStyle  # noqa: E402

from signing.appearance import text_font_path  # noqa: E402
from signing.document import SEAL_FIELD_NAME, SignatureSlot  # noqa: E402
from signing.keys import SoftKey, encrypt_pkcs8  # noqa: E402
from signing.pades import (  # noqa: E402
    PartyField,
    SignerRequest,
    file_document,
    prepare_for_signing,
    sign_party,
    sign_party_documents,
)
from signing.pki import Pki  # noqa: E402
from signing.pki.certs import (  # noqa: E402
    issue_certificate,
    tsa_extensions,
)
from signing.signature_image import normalise_signature_png  # noqa: E402

AUTHORITY = "咸宁市住房和城乡建设局"


def sample_contract() -> tuple[bytes, tuple[SignatureSlot, ...], list[str]]:
    """The project's sample contract if the renderer is there, else a small typst page."""
    try:
        from signing.render import render_contract
        from tests.samples import sample_contract_document

        rendered = render_contract(sample_contract_document())
        parties = [s.field_name for s in rendered.slots if s.field_name != SEAL_FIELD_NAME]
        return rendered.pdf, rendered.slots, parties
    except ImportError:
        import typst

        source = '#set page(paper: "a4")\n#set text(font: "Noto Serif SC")\n存量房买卖合同\n'
        pdf = typst.compile(source.encode(), font_paths=[str(text_font_path().parent)])
        slots = (
            SignatureSlot("party-a", 1, 70, 600, 193, 74),
            SignatureSlot("party-b", 1, 313, 600, 193, 74),
            SignatureSlot("party-c", 1, 70, 480, 193, 74),
            SignatureSlot(SEAL_FIELD_NAME, 1, 400, 300, 125, 125),
        )
        return pdf, slots, ["party-a", "party-b", "party-c"]


def handwriting_png(seed: int = 1) -> bytes:
    image = Image.new("RGBA", (700, 280), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(60 + i * 62, 140 + ((i * seed * 53) % 110) - 55) for i in range(10)]
    draw.line(points, fill=(0, 0, 0, 255), width=9, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def measure(
    fn: Callable[[], object], runs: int, warmup: int = 2
) -> tuple[list[float], list[float]]:
    """(wall-clock ms, this process's CPU ms) per run.

    CPU time is reported too because it does not move when other work
    shares the machine; wall-clock time is what a caller waits.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def row(label: str, samples: list[float], cpu: list[float], ratio: str) -> None:
    print(f"| {label} | {statistics.median(samples):.1f} | {p90(samples):.1f} | "
          f"{statistics.median(cpu):.1f} | {ratio} |")


def measure_pair(
    a: Callable[[], object], b: Callable[[], object], runs: int
) -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    """:func:`measure` of two functions, run alternately."""
    out_a: tuple[list[float], list[float]] = ([], [])
    out_b: tuple[list[float], list[float]] = ([], [])
    for _ in range(2):
        a(), b()
    for _ in range(runs):
        for fn, out in ((a, out_a), (b, out_b)):
            wall, cpu = measure(fn, 1, warmup=0)
            out[0].extend(wall)
            out[1].extend(cpu)
    return out_a, out_b


def raw_signatures(runs: int) -> dict[str, list[float]]:
    """ms per raw signature of 1 KiB: our SM2, ECDSA P-256, and gmssl's pure-Python SM2."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from signing.gm.sm2 import Sm2PrivateKey

    data = os.urandom(1024)
    sm2_key = Sm2PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    cases: dict[str, Callable[[], object]] = {
        "SM2 / SM3, ours (OpenSSL 3 via ctypes)": lambda: sm2_key.sign(data),
        "ECDSA P-256 / SHA-256 (pyca/cryptography)": lambda: p256.sign(
            data, ec.ECDSA(hashes.SHA256())),
    }
    try:
        from gmssl import sm2 as gm_sm2
    except ImportError:  # a test dependency: pip install -e '.[dev]'
        print("(gmssl not installed: no pure-Python row)")
    else:
        priv = asn1_keys.PrivateKeyInfo.load(sm2_key.to_der())["private_key"].parsed
        point = bytes(asn1_keys.PublicKeyInfo.load(sm2_key.public_key().to_der())["public_key"])
        crypt = gm_sm2.CryptSM2(private_key=f"{priv['private_key'].native:064x}",
                                public_key=point[1:].hex())
        crypt.public_key = point[1:].hex()
        cases["SM2 / SM3, gmssl 3.2 (pure Python)"] = lambda: crypt.sign_with_sm3(data)
    return {label: measure(fn, max(20, runs))[0] for label, fn in cases.items()}


def baseline_signer(pki: Pki, tmp: Path) -> tuple[signers.Signer, timestamps.TimeStamper]:
    """A party certificate + key as files, and pyHanko's RSA-only dummy TSA."""
    issued = pki.issue_signer("王建国", "421202197503123518", now=pki.clock())
    assert isinstance(issued.key, SoftKey)
    # a 30-minute certificate is enough: the benchmark takes seconds
    (tmp / "signer.key.pem").write_bytes(encrypt_pkcs8(issued.key.private_key, b"pw", 2048))
    (tmp / "signer.cer").write_bytes(issued.certificate.dump())
    (tmp / "issuing.cer").write_bytes(pki.issuing_cert.dump())
    signer = signers.SimpleSigner.load(
        str(tmp / "signer.key.pem"),
        str(tmp / "signer.cer"),
        ca_chain_files=(str(tmp / "issuing.cer"),),
        key_passphrase=b"pw",
    )
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    soft = SoftKey(rsa_key)
    now = pki.clock()
    tsa_cert = issue_certificate(
        subject=pki.tsa_cert.subject,
        public_key=soft.public_key_info,
        serial=pki.tsa_cert.serial_number + 1,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=1),
        signing_key=pki.key("root"),
        digest="sha256",
        issuer=pki.root_cert,
        extensions=tsa_extensions(),
    )
    tsa_key = asn1_keys.PrivateKeyInfo.load(
        rsa_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signer, timestamps.DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--baseline-runs", type=int, default=15)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    pki = Pki.load_or_create(tmp / "pki", b"benchmark passphrase", "http://127.0.0.1:8000")
    pdf, slots, party_fields = sample_contract()
    prepared = prepare_for_signing(pdf, slots, pki=pki)
    field = party_fields[0]
    png = handwriting_png()
    request = SignerRequest("王建国", "421202197503123518", png, datetime.now(UTC))

    # (a) stock pyHanko
    signer, tsa = baseline_signer(pki, tmp)
    font = str(text_font_path())
    style = TextStampStyle(
        stamp_text="签署人：%(signer)s\n时间：%(ts)s",
        text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(font)),
        background=PdfImage(Image.open(io.BytesIO(png))),
        background_opacity=1.0,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )

    def baseline() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(prepared))
        pdf_signer = signers.PdfSigner(meta, signer, timestamper=tsa, stamp_style=style)
        return pdf_signer.sign_pdf(writer, existing_fields_only=True).getvalue()

    # (b) ours, from the raw upload, and from the normalised PNG the app stores
    def ours() -> bytes:
        return sign_party(prepared, field, request, pki=pki)

    stored = SignerRequest(
        request.name, request.id_number, normalise_signature_png(png), request.signed_at
    )

    def ours_stored() -> bytes:
        return sign_party(prepared, field, stored, pki=pki)

    # (c) filing: sign every party once, then time the filing step
    signed = prepared
    for n, name in enumerate(party_fields):
        signed = sign_party(
            signed,
            name,
            SignerRequest(
                f"签署人{n}", "421202197503123518", handwriting_png(n + 2), request.signed_at
            ),
            pki=pki,
        )

    def filing() -> bytes:
        return file_document(signed, AUTHORITY, "BA2026-000123", pki=pki)

    # (d) the three documents of a custody sale, one party's step
    from signing.render import render_document
    from tests.samples import sample_contract_document

    documents = [prepared]
    for kind in ("funds_custody_agreement", "transaction_notice"):
        extra = render_document(kind, sample_contract_document())
        documents.append(prepare_for_signing(extra.pdf, extra.slots, pki=pki))

    def three_one_key() -> list[bytes]:
        return sign_party_documents([PartyField(d, field, "签署") for d in documents], stored,
                                    pki=pki)

    def three_keys() -> list[bytes]:
        return [sign_party(d, field, stored, pki=pki) for d in documents]

    # (e) the SM2 suite: its own PKI, its own prepared document, the same request
    sm2_pki = Pki.load_or_create(tmp / "pki", b"benchmark passphrase", "http://127.0.0.1:8000",
                                 suite="sm2")
    sm2_prepared = prepare_for_signing(pdf, slots, pki=sm2_pki)

    def ours_sm2() -> bytes:
        return sign_party(sm2_prepared, field, request, pki=sm2_pki)

    base = measure(baseline, args.baseline_runs)
    # interleaved, so that load on the shared machine hits both alike
    party, party_sm2 = measure_pair(ours, ours_sm2, args.runs)
    party_stored = measure(ours_stored, args.runs)
    filed = measure(filing, max(10, args.runs // 2))
    step_separate = measure(three_keys, max(10, args.runs // 2))
    step = measure(three_one_key, max(10, args.runs // 2))
    primitives = raw_signatures(args.runs)

    load = os.getloadavg()[0]
    print(f"input: {len(prepared) // 1024} KiB contract PDF, field {field!r}")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} during the run")
    print()
    print("| step | median ms | p90 ms | CPU median ms | baseline / ours (median) |")
    print("|---|---:|---:|---:|---:|")
    base_median = statistics.median(base[0])
    for label, (samples, cpu) in (
        ("(a) stock pyHanko, CJK text stamp, B-T", base),
        ("(b) ours: party signature, B-T + OCSP (raw upload PNG)", party),
        ("(b') ours: same, from the stored normalised PNG", party_stored),
        ("(c) ours: filing (seal B-T + LT data + doc timestamp)", filed),
        ("(d') three documents, three sign_party calls (a key each)", step_separate),
        ("(d) ours: three documents, one key (one face verification)", step),
    ):
        median = statistics.median(samples)
        row(label, samples, cpu, "" if samples is base[0] else f"{base_median / median:.1f}×")
    print()
    print("SM2 suite, same run (ratio: SM2 / ECDSA P-256, median; target ≤ 2×):")
    print()
    print("| one party signature | median ms | p90 ms | CPU median ms | SM2 / P-256 |")
    print("|---|---:|---:|---:|---:|")
    p256_median = statistics.median(party[0])
    for label, (samples, cpu) in (
        ("ECDSA P-256 / SHA-256 (b)", party),
        ("SM2 / SM3 (e)", party_sm2),
    ):
        median = statistics.median(samples)
        row(label, samples, cpu, "" if samples is party[0] else f"{median / p256_median:.2f}×")
    print()
    print("| one raw signature (data: 1 KiB) | median ms | p90 ms | / ours SM2 |")
    print("|---|---:|---:|---:|")
    sm2_median = statistics.median(primitives["SM2 / SM3, ours (OpenSSL 3 via ctypes)"])
    for label, samples in primitives.items():
        median = statistics.median(samples)
        print(f"| {label} | {median:.3f} | {p90(samples):.3f} | {median / sm2_median:.1f}× |")


if __name__ == "__main__":
    main()
