"""docs/protocol.md documents every topic and every payload of the contract, with examples that
validate against the contract's models and are published on the topic they are shown with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from mqtt_contract import commands, models, topics
from mqtt_contract.topics import Command, EventKind, TopicKind

DOC_TEXT = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(
    encoding="utf-8"
)
EXAMPLE = re.compile(r"Topic `([^`]+)`:\s*<!-- model: (\w+) -->\s*```json\n(.*?)```", re.DOTALL)
EXAMPLES = EXAMPLE.findall(DOC_TEXT)

# Where each payload model travels: the topic kind, and the event kind or command it belongs to.
COMMAND_MODELS: dict[type[BaseModel], Command] = {
    models.Receipt: Command.RECEIPT,
    models.Allowlist: Command.ALLOWLIST,
    models.CapacityAlert: Command.ALERT,
    commands.CommandRequest: Command.REQUEST,
}
CONTRACT_MODULES = (models, commands)
"""Where the contract's payload models are defined."""


def _model(name: str) -> type[BaseModel]:
    (found,) = [getattr(m, name) for m in CONTRACT_MODULES if hasattr(m, name)]
    return found  # type: ignore[no-any-return]


def _payload_models() -> set[str]:
    """Every message the contract defines: the concrete subclasses of its message base."""
    found: set[str] = set()
    for module in CONTRACT_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if (
                isinstance(obj, type)
                and issubclass(obj, models._Message)
                and "v" in obj.model_fields
            ):
                found.add(name)
    return found


def test_every_payload_model_has_an_example() -> None:
    documented = {name for _, name, _ in EXAMPLES}
    expected = _payload_models()
    assert len(expected) >= 10  # guards the discovery itself
    assert {"CommandRequest", "CommandReply"} <= expected
    assert documented == expected


def test_every_topic_is_in_the_table() -> None:
    rows = set(re.findall(r"^\| `(yp/v1/[^`]+)` \|", DOC_TEXT, re.MULTILINE))
    expected = {f"{topics.PREFIX}/{{site}}/{{device}}/{kind.value}" for kind in EventKind}
    expected |= {f"{topics.PREFIX}/{{site}}/cmd/{command.value}" for command in Command}
    expected |= {f"{topics.PREFIX}/{{site}}/{leaf}" for leaf in ("status", "health", "reply")}
    assert rows == expected


@pytest.mark.parametrize(("topic", "model_name", "payload"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_example_validates_on_its_topic(topic: str, model_name: str, payload: str) -> None:
    model = _model(model_name)
    message = model.model_validate_json(payload).model_dump()
    parsed = topics.parse_topic(topic)
    assert message["site"] == parsed.site
    if parsed.kind is TopicKind.EVENT:
        assert parsed.event_kind is not None
        assert message["kind"] == parsed.event_kind.value
        assert message["device"] == parsed.device
    elif parsed.kind is TopicKind.COMMAND:
        assert COMMAND_MODELS[model] is parsed.command
    else:
        assert {
            TopicKind.STATUS: models.Status,
            TopicKind.HEALTH: models.Health,
            TopicKind.REPLY: commands.CommandReply,
        }[parsed.kind] is model
