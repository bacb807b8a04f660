"""Every error family the hardening tests provoke is explained in docs/errors.md (by the
words of its message), so a user who meets it can look it up."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.hardening.corpus import CASES
from tests.hardening.corpus_safety import CASES as SAFETY_CASES

# Families provoked outside the corpus table (resume, NaN guard, safe loading, bugs).
OTHER_FAMILIES = (
    "internal error", "MTKIT_DEBUG=1", "cannot resume", "cannot resume from checkpoint",
    "history.json' is damaged", "train.checkpoint: false", "the loss of task",
    "made the weights diverge", "holds Python code", "is offered by two packages", "broken:",
    "field 'train.devices'", "the new run was discarded",
)


def test_every_error_family_is_explained_in_the_errors_page():
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    families = sorted({c.family for c in CASES.values()} | {c.family for c in SAFETY_CASES.values()}
                      | set(OTHER_FAMILIES))
    missing = [f for f in families if f not in page]
    assert not missing, f"docs/errors.md does not explain: {missing}"
