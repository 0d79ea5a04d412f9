"""The inventory: read + parse, every problem reported at once with its file, entry and key."""

from __future__ import annotations

import pytest
import yaml

from agentwatch.errors import ConfigError
from agentwatch.inventory import InventoryError, load_inventory, parse_inventory
from tests.support.paths import SAMPLE

SAMPLE = SAMPLE / "agents.yaml"
GOOD = {"agent_id": "bot", "business_value": 3,
        "declared": {"access": 1, "action": 2, "autonomy": 3, "oversight": 4, "goal_stability": 5, "monitoring": 3}}


def test_load_is_read_then_parse():
    doc = yaml.safe_load(SAMPLE.read_text())
    assert load_inventory(SAMPLE) == parse_inventory(doc, str(SAMPLE))


def test_controls_in_place_are_kept():
    agents = parse_inventory({"agents": [{**GOOD, "controls": ["telemetry", "verification"]}]}, "inv.yaml")
    assert agents["bot"].controls == ("telemetry", "verification")
    assert parse_inventory({"agents": [GOOD]}, "inv.yaml")["bot"].controls == ()


def test_every_problem_is_reported_with_its_entry_and_key():
    doc = {"agents": [
        {**GOOD, "business_value": 9, "declared": {**GOOD["declared"], "access": 0}},
        "not a mapping",
        {**GOOD, "agent_id": "two", "scope": {"repoz": []}, "controls": ["Bad Name"], "allowed_tools": "git"},
        {**GOOD, "declared": {"access": 1}},
    ]}
    with pytest.raises(InventoryError) as error:
        parse_inventory(doc, "inv.yaml")
    problems = error.value.problems
    assert ("`business_value` must be an integer from 1 to 5, got 9", "inv.yaml: agents[0] (bot)") in problems
    assert ("`declared.access` must be an integer from 1 to 5, got 0", "inv.yaml: agents[0] (bot)") in problems
    assert ("entry must be a mapping", "inv.yaml: agents[1]") in problems
    wheres = {where for _, where in problems}
    assert wheres == {"inv.yaml: agents[0] (bot)", "inv.yaml: agents[1]", "inv.yaml: agents[2] (two)",
                      "inv.yaml: agents[3] (bot)"}
    messages = " ".join(what for what, _ in problems)
    for part in ("unknown scope kinds ['repoz']", "'Bad Name' is not a control name", "`allowed_tools` must be",
                 "declared scores missing action, autonomy"):
        assert part in messages
    assert isinstance(error.value, ConfigError) and str(error.value).startswith("invalid inventory (7 problems)")


def test_duplicate_ids_and_unknown_keys_are_problems():
    doc = {"agents": [GOOD, {**GOOD, "decalred": {}}]}
    with pytest.raises(InventoryError) as error:
        parse_inventory(doc, "inv.yaml")
    messages = [what for what, _ in error.value.problems]
    assert any(m.startswith("unknown keys ['decalred']") for m in messages)


def test_duplicate_agent_id_is_a_problem():
    with pytest.raises(InventoryError, match="duplicate agent_id 'bot' in inv.yaml: agents\\[1\\] \\(bot\\)"):
        parse_inventory({"agents": [GOOD, GOOD]}, "inv.yaml")


def test_a_file_that_is_not_an_inventory_names_the_file(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(ConfigError, match=f"top-level list `agents`.* in {path}"):
        load_inventory(path)
    path.write_text("agents: [\n")
    with pytest.raises(ConfigError, match=f"(?s)cannot read inventory.* in {path}"):
        load_inventory(path)
