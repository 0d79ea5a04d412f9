"""Which scripted incidents and hard negatives exist, which agents play them, and on which days.

Ground truth: an incident session is labelled 1 with its scenario name; a hard negative (legitimate
but unusual) is labelled 0 with `hard_negative_<name>`; everything else is 0 `normal`. Sub-agent
sessions inherit their parent's label and scenario (a runaway spawn tree is one incident, every
session in it labelled).
"""

from __future__ import annotations

import random
from types import ModuleType

from agentwatch.sample import agent_analyst, agent_cicd, agent_mail, agent_research, agent_sre, agent_support

AGENT_MODULES: dict[str, ModuleType] = {
    "cicd-assistant": agent_cicd,
    "support-agent": agent_support,
    "data-analyst": agent_analyst,
    "sre-agent": agent_sre,
    "mail-assistant": agent_mail,
    "research-agent": agent_research,
}

# Instances per 14 days at scale 1 (more with scale; at least one each whenever there are days).
INCIDENTS = {
    "db_wipe": 2,
    "file_deletion": 2,
    "extortion": 2,
    "prompt_injection": 3,
    "goal_drift": 2,
    "scope_creep": 3,
    "runaway_delegation": 2,
    "tool_loop": 3,
    "forged_approval": 3,
    "unapproved_action": 2,
    "telemetry_dark": 2,
}
HARD_NEGATIVES = {
    "hard_negative_approved_migration": 2,
    "hard_negative_task_change": 3,
    "hard_negative_deploy_polling": 2,
    "hard_negative_wide_research": 2,
    "hard_negative_new_payee": 2,
}
# The first days stay clean so per-agent baselines have something normal to learn from.
WARMUP_DAYS = 3


def label_of(scenario: str) -> int:
    """1 for an incident, 0 for a hard negative or normal traffic."""
    return 1 if scenario in INCIDENTS else 0


def players(scenario: str) -> list[str]:
    """The agents that have a script for this scenario, in fleet order."""
    return [agent_id for agent_id, module in AGENT_MODULES.items() if scenario in module.SCENARIOS]


def instance_count(base: int, days: int, scale: float) -> int:
    """How many instances of a scenario a run of `days` days at `scale` gets."""
    return max(1, round(base * scale * days / 14))


def plan_scenarios(seed: int, days: int, scale: float) -> dict[tuple[str, int], list[str]]:
    """(agent_id, day index) -> scenarios to play that day, spread over agents and days."""
    rng = random.Random(f"{seed}:plan")
    first = min(WARMUP_DAYS, days - 1)
    plan: dict[tuple[str, int], list[str]] = {}
    for scenario, base in {**INCIDENTS, **HARD_NEGATIVES}.items():
        agents = players(scenario)
        offset = rng.randrange(len(agents))
        for i in range(instance_count(base, days, scale)):
            key = (agents[(offset + i) % len(agents)], rng.randrange(first, days))
            plan.setdefault(key, []).append(scenario)
    return plan
