"""pyHanko's difference analysis, done once per signed revision within one validation.

Long-term (LTA) validation of one signature rebuilds pyHanko's proof-of-existence
index from the document timestamps, and doing so runs the integrity check —
diff analysis of every revision after it — of *every* signature in the file
(``pyhanko.sign.validation.ades._build_prima_facie_poe_index_from_pdf_timestamps``).
A filed contract with five LTA signatures therefore reviews the same
revisions five or six times over; that was about half of a validation's CPU.

:meth:`StandardDiffPolicy.review_file` is a pure function of the file's
bytes and its arguments (it reads the file through the reader, which never
changes during a validation), so its answer for one (reader, base revision,
FieldMDP, DocMDP) is remembered and handed out again. Use a fresh instance
per validation: it holds the readers it has seen.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffPolicy, DiffResult
from pyhanko.sign.diff_analysis.policy_api import SuspiciousModification
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm


def _spec_key(spec: FieldMDPSpec | None) -> Any:
    # FieldMDPSpec is a frozen dataclass, but holds a list of field names
    try:
        hash(spec)
        return spec
    except TypeError:
        return repr(spec)


class MemoisedDiffPolicy(DiffPolicy):
    """``inner`` (pyHanko's default policy), each file review computed once."""

    def __init__(self, inner: DiffPolicy = DEFAULT_DIFF_POLICY) -> None:
        self._inner = inner
        # key -> (the reader, so its id stays taken while the entry lives; the result)
        self._reviews: dict[tuple[Any, ...], tuple[PdfFileReader, Any]] = {}
        self.computed = 0
        self.reused = 0

    def apply(self, old: HistoricalResolver, new: HistoricalResolver,
              field_mdp_spec: FieldMDPSpec | None = None,
              doc_mdp: MDPPerm | None = None) -> DiffResult:
        return self._inner.apply(old, new, field_mdp_spec, doc_mdp)

    def review_file(self, reader: PdfFileReader, base_revision: int | HistoricalResolver,
                    field_mdp_spec: FieldMDPSpec | None = None,
                    doc_mdp: MDPPerm | None = None) -> DiffResult | SuspiciousModification:
        revision = base_revision if isinstance(base_revision, int) else base_revision.revision
        key = (id(reader), revision, reader.xrefs.total_revisions, _spec_key(field_mdp_spec),
               doc_mdp)
        hit = self._reviews.get(key)
        if hit is not None and hit[0] is reader:
            self.reused += 1
            return hit[1]
        result = self._inner.review_file(reader, base_revision, field_mdp_spec, doc_mdp)
        self._reviews[key] = (reader, result)
        self.computed += 1
        return result
