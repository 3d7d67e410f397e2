"""The contract services' adapters for a command-line process (no HTTP server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.adapters.documents.select import open_document_store
from server.config import Settings
from server.cpu import CpuPool
from server.identity_crypto import IdentityCipher
from server.kv import open_store
from server.secrets import load_secrets
from server.services.contracts.deps import ContractDeps
from server.services.signing_setup import open_pki, pki_settings


@asynccontextmanager
async def open_contract_deps(settings: Settings, workers: int = 1
                             ) -> AsyncIterator[ContractDeps]:
    """The same key-value store, files and PKI as the server, with a CPU pool of its own."""
    from signing import worker

    secrets = load_secrets(settings)
    open_pki(settings, secrets)  # creates what is missing, under the PKI's own lock
    from server.services.revocations import Revocations

    revocations = Revocations()
    pool = CpuPool(workers, initializer=worker.init_worker,
                   initargs=(pki_settings(settings, secrets),),
                   context=revocations.current, apply_context=worker.use_revocations)
    kv = open_store(settings.redis_url, settings.redis_key_prefix)
    try:
        yield ContractDeps(
            settings=settings,
            cipher=IdentityCipher.configured(settings, secrets),
            files=open_document_store(settings), pool=pool, kv=kv, houses=None, face=None,
            fonts=None, revocations=revocations)
    finally:
        pool.shutdown()
        await kv.close()
