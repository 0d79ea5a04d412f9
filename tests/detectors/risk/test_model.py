"""The two matrices and the controls, from the framework's own CI/CD example."""

from __future__ import annotations

import pytest

from agentwatch.detectors.risk.model import apply_controls, load_controls, place
from agentwatch.errors import ConfigError

CICD = {"access": 5, "action": 4, "autonomy": 4, "oversight": 1, "goal_stability": 3, "monitoring": 2}
FRAMEWORK_CONTROLS = ["segmentation", "verification", "telemetry", "guardrails"]


def scores(**changes: int) -> dict[str, int]:
    return {**dict.fromkeys(CICD, 3), **changes}


def test_cicd_assistant_is_strategic_and_critical_risk():
    placed = place(CICD, 5)
    assert placed["vulnerability"] == pytest.approx(25 / 6)
    assert (placed["model1"], placed["model2"]) == ("Strategic Risk", "Critical Risk")


def test_framework_controls_move_cicd_assistant_to_managed_risk_and_safe_optimization():
    after = apply_controls(CICD, load_controls(), FRAMEWORK_CONTROLS)
    placed = place(after, 5)
    assert (placed["model1"], placed["model2"]) == ("Safe Optimization", "Managed Risk")
    assert after["autonomy"] == CICD["autonomy"]  # managed, not less autonomous: the business value stays


def test_each_framework_control_alone_is_not_enough():
    controls = load_controls()
    for name in FRAMEWORK_CONTROLS:
        placed = place(apply_controls(CICD, controls, [name]), 5)
        assert (placed["model1"], placed["model2"]) != ("Safe Optimization", "Managed Risk"), name


@pytest.mark.parametrize(("value", "vulnerability_high", "quadrant"), [
    (4, False, "Safe Optimization"), (4, True, "Strategic Risk"), (3, False, "Low Impact"), (3, True, "High Exposure"),
])
def test_model1_quadrants_on_both_sides_of_the_boundary(value, vulnerability_high, quadrant):
    # vulnerability exactly 3 is low; one point more on one dimension (19/6) is high
    dims = scores(access=4) if vulnerability_high else scores()
    assert place(dims, value)["vulnerability"] == pytest.approx(19 / 6 if vulnerability_high else 3)
    assert place(dims, value)["model1"] == quadrant


@pytest.mark.parametrize(("autonomy", "oversight", "quadrant"), [
    (3, 4, "Minimal Risk"), (4, 4, "Managed Risk"), (3, 3, "Latent Risk"), (4, 3, "Critical Risk"),
])
def test_model2_quadrants_on_both_sides_of_the_boundary(autonomy, oversight, quadrant):
    assert place(scores(autonomy=autonomy, oversight=oversight), 3)["model2"] == quadrant


def test_the_high_threshold_is_configurable():
    assert place(scores(autonomy=4, oversight=4), 3, high=4)["model2"] == "Latent Risk"
    assert place(scores(), 3, high=2)["model1"] == "Strategic Risk"


def test_undeclared_value_has_no_model1_quadrant():
    assert place(CICD, None)["model1"] is None
    assert place(CICD, None)["model2"] == "Critical Risk"


def test_controls_in_place_are_not_applied_twice_and_scores_stay_in_range():
    controls = load_controls()
    assert apply_controls(CICD, controls, ["telemetry"], in_place=["telemetry"]) == CICD
    twice = apply_controls(apply_controls(CICD, controls, ["segmentation"]), controls, ["segmentation"])
    assert twice["access"] == 1
    assert apply_controls(CICD, controls, ["telemetry"])["monitoring"] == 5


def test_unknown_control_is_an_error_naming_the_option():
    with pytest.raises(ConfigError, match="unknown control 'firewall'.* in --what-if"):
        apply_controls(CICD, load_controls(), ["firewall"])


def test_controls_file_problems_are_all_reported(tmp_path):
    path = tmp_path / "controls.yml"
    path.write_text("controls:\n  a: {effects: {access: 2}}\n  b: {effects: {reach: -1}}\n  c: {summary: x}\n")
    with pytest.raises(ConfigError) as error:
        load_controls(path)
    message = str(error.value)
    assert "controls.a.effects.access: a control lowers risk; +2 raises it" in message
    assert "unknown dimension 'reach'" in message and "controls.c: `effects`" in message
    assert message.endswith(f"in {path}")


def test_controls_file_overrides_the_packaged_one(tmp_path):
    path = tmp_path / "controls.yml"
    path.write_text("controls:\n  sandbox: {summary: VM, effects: {access: -4, action: -2}}\n")
    controls = load_controls(path)
    assert list(controls) == ["sandbox"]
    assert apply_controls(CICD, controls, ["sandbox"])["access"] == 1
