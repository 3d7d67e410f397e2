"""Public verification of filed contracts: what anyone scanning the QR code may learn.

The QR code on a filed contract carries ``/v/{code}?t={token}``. The pair is a
capability: whoever holds the paper (or the PDF) may see the status and a few
masked facts, and may check a PDF against the filed original. Everybody else
gets the same 404 as for a code that does not exist.

* :mod:`.gate` — code and token to a verifiable contract, or 404; rate limits.
* :mod:`.facts` — the masked facts, cached in the key-value store.
* :mod:`.documents` — the check of an uploaded PDF against the stored revisions.
* :mod:`.pdfcheck` — the part of that check that runs in the CPU pool.
* :mod:`.page` — the HTML page (templates under ``templates/verify``).

This ``__init__`` imports nothing, so the pool's processes can import
:mod:`.pdfcheck` without loading the ORM models.
"""
