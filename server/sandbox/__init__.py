"""Development stand-ins for outside services (dev and tests only; off unless enabled).

The face-verification sandbox speaks the Tencent FaceID server protocol so
that the real adapter code runs against it; see :mod:`server.sandbox.faceid`.
``Settings.check`` refuses ``SANDBOX_ENABLED`` in production.
"""

from server.sandbox.faceid import FACEID_PATH, bp

__all__ = ["FACEID_PATH", "bp"]
