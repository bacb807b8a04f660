"""docs/multidigit.md must stay true: every parameter documented, the config quoted verbatim."""

from __future__ import annotations

import pytest
from mtkit_multidigit.multidigit import MultidigitParams
from mtkit_multidigit.svhn import SvhnParams
from multidigit_helpers import ROOT

DOC = ROOT / "docs" / "multidigit.md"


@pytest.mark.parametrize("params", [MultidigitParams, SvhnParams])
def test_every_parameter_is_in_the_tutorial(params):
    text = DOC.read_text(encoding="utf-8")
    for name in params.model_fields:
        assert f"| `{name}` |" in text, f"{params.__name__}.{name} is not documented in {DOC}"


def test_the_quoted_demo_config_is_the_real_one():
    text = DOC.read_text(encoding="utf-8")
    config = (ROOT / "configs" / "multidigit.yaml").read_text(encoding="utf-8")
    assert f"```yaml\n{config}```" in text
