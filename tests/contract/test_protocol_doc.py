"""Every payload example in docs/protocol.md must validate against the contract's models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mqtt_contract import models

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
EXAMPLE = re.compile(r"<!-- model: (\w+) -->\s*```json\n(.*?)```", re.DOTALL)
EXAMPLES = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))


def test_the_document_has_an_example_of_every_message() -> None:
    assert {name for name, _ in EXAMPLES} == {"CheckinEvent", "Status", "Health", "Receipt"}


@pytest.mark.parametrize(("model_name", "payload"), EXAMPLES)
def test_example_validates(model_name: str, payload: str) -> None:
    model = getattr(models, model_name)
    assert model.model_validate_json(payload).site == "centre-01"
