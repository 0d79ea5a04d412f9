"""The sample fleet: six agents with distinct jobs, tools, scopes and rhythms, and its inventory file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentwatch.sample.entities import vendors
from agentwatch.sample.signing import Keyring

OFFICE = (0, 0, 0, 0, 0, 0, 0.2, 0.6, 1.4, 2, 2, 1.8, 1.2, 1.8, 2, 1.9, 1.6, 1, 0.5, 0.3, 0.2, 0.1, 0, 0)
ROUND_THE_CLOCK = (0.5, 0.4, 0.4, 0.4, 0.4, 0.5, 0.7, 1, 1.5, 1.8, 1.8, 1.7, 1.5, 1.7, 1.8, 1.7, 1.5, 1.2,
                   1, 0.9, 0.8, 0.7, 0.6, 0.5)
ON_CALL = (0.6, 0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 1.6, 1.6, 1.4, 1.3, 1.2, 1.3, 1.4, 1.4, 1.3, 1.1,
           0.9, 0.8, 0.8, 0.7, 0.7, 0.6)
RESEARCH = (0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 1.6, 1.6, 1.4, 1, 1.4, 1.6, 1.5, 1.3, 1, 0.7, 0.6,
            0.6, 0.5, 0.4, 0.3)


@dataclass(frozen=True)
class AgentSpec:
    """One agent: its inventory entry plus how it behaves (model, humans, approvers, rhythm)."""

    agent_id: str
    owner: str
    purpose: str
    business_value: int
    declared: dict[str, int]
    allowed_tools: tuple[str, ...]
    scope: dict[str, list[str]]
    approval_required: tuple[str, ...]
    model: str
    humans: tuple[str, ...]
    approvers: tuple[tuple[str, str], ...]  # (approver e-mail, key_id)
    hours: tuple[float, ...]  # relative session starts per UTC hour
    weekday_rate: float  # sessions per weekday at scale 1
    weekend_rate: float


def _scores(access, action, autonomy, oversight, goal_stability, monitoring) -> dict[str, int]:
    return {"access": access, "action": action, "autonomy": autonomy, "oversight": oversight,
            "goal_stability": goal_stability, "monitoring": monitoring}


def _scope(**kinds: list[str]) -> dict[str, list[str]]:
    names = ("repos", "paths", "hosts", "tables", "emails", "accounts", "cloud")
    return {name: list(kinds.get(name, [])) for name in names}


def build_fleet(seed: int) -> tuple[AgentSpec, ...]:
    """The six agents of the sample fleet."""
    return (CICD, SUPPORT, ANALYST, SRE, _mail_assistant(seed), RESEARCH_AGENT)


CICD = AgentSpec(
    agent_id="cicd-assistant",
    owner="platform-eng@acme.com",
    purpose="Reviews pull requests, pushes fixes to PR branches, triggers staging deploys.",
    business_value=5,
    declared=_scores(5, 4, 4, 1, 3, 2),
    allowed_tools=("git_diff", "read_file", "edit_file", "run_shell", "run_tests", "git_commit", "git_push",
                   "create_pr_comment", "ci_status", "deploy_staging", "delete_file"),
    scope=_scope(
        repos=["acme/payments-api", "acme/web-frontend", "acme/ledger-service"],
        paths=["/workspace/payments-api", "/workspace/payments-api/**", "/workspace/web-frontend",
               "/workspace/web-frontend/**", "/workspace/ledger-service", "/workspace/ledger-service/**"],
        hosts=["github.acme.com", "ci.acme.com", "staging.acme.internal", "pypi.org", "registry.npmjs.org",
               "proxy.golang.org"],
    ),
    approval_required=("git_push", "deploy_staging", "delete_file"),
    model="claude-sonnet-4-5",
    humans=("maria.lopez@acme.com", "dev.patel@acme.com", "chen.wei@acme.com", "sofia.rossi@acme.com",
            "tom.baker@acme.com"),
    approvers=(("maria.lopez@acme.com", "maria-2026"), ("tom.baker@acme.com", "tom-2026")),
    hours=OFFICE,
    weekday_rate=18,
    weekend_rate=3,
)

SUPPORT = AgentSpec(
    agent_id="support-agent",
    owner="customer-care@acme.com",
    purpose="Works customer tickets: order status, refunds, account questions; escalates the rest.",
    business_value=4,
    declared=_scores(3, 3, 3, 3, 4, 4),
    allowed_tools=("get_ticket", "search_kb", "get_customer", "get_order", "reply_ticket", "issue_refund",
                   "escalate_ticket"),
    scope=_scope(hosts=["support.acme.com", "kb.acme.com"], emails=["*@acme.com"],
                 accounts=["CUST-*", "ORD-*"]),
    approval_required=("issue_refund",),
    model="gpt-4.1",
    humans=("nina.okafor@acme.com", "luis.garcia@acme.com", "emma.schulz@acme.com", "kofi.mensah@acme.com"),
    approvers=(("emma.schulz@acme.com", "emma-2026"), ("luis.garcia@acme.com", "luis-2026")),
    hours=ROUND_THE_CLOCK,
    weekday_rate=28,
    weekend_rate=15,
)

ANALYST = AgentSpec(
    agent_id="data-analyst",
    owner="data-platform@acme.com",
    purpose="Answers business questions with SQL on the warehouse; builds charts and scratch tables.",
    business_value=3,
    declared=_scores(4, 2, 3, 3, 4, 3),
    allowed_tools=("list_tables", "describe_table", "run_query", "run_statement", "create_chart", "export_csv"),
    scope=_scope(tables=["analytics.*", "marts.*", "raw.*", "scratch.*"],
                 cloud=["s3://acme-analytics-exports/**"], hosts=["warehouse.acme.internal", "bi.acme.internal"]),
    approval_required=("run_statement", "export_csv"),
    model="gpt-4.1-mini",
    humans=("priya.nair@acme.com", "jonas.berg@acme.com", "kate.miller@acme.com", "sam.turner@acme.com"),
    approvers=(("jonas.berg@acme.com", "jonas-2026"), ("priya.nair@acme.com", "priya-2026")),
    hours=OFFICE,
    weekday_rate=12,
    weekend_rate=2,
)

SRE = AgentSpec(
    agent_id="sre-agent",
    owner="sre@acme.com",
    purpose="Investigates alerts, reads metrics and logs, restarts services and applies reviewed infra plans.",
    business_value=5,
    declared=_scores(5, 5, 3, 3, 4, 4),
    allowed_tools=("query_metrics", "read_logs", "shell", "kubectl", "aws_cli", "restart_service",
                   "terraform_plan", "terraform_apply"),
    scope=_scope(
        hosts=["*.acme.internal"],
        paths=["/var/log", "/var/log/**", "/var/lib/postgresql", "/srv/**", "/etc/nginx/**",
               "/infra/terraform/**"],
        cloud=[f"arn:aws:{service}:eu-west-1:123456789012:**"
               for service in ("ec2", "rds", "autoscaling", "cloudwatch", "elasticloadbalancing")],
    ),
    approval_required=("restart_service", "terraform_apply"),
    model="claude-sonnet-4-5",
    humans=("oliver.smith@acme.com", "aisha.khan@acme.com", "ben.carter@acme.com"),
    approvers=(("aisha.khan@acme.com", "aisha-2026"), ("oliver.smith@acme.com", "oliver-2026")),
    hours=ON_CALL,
    weekday_rate=10,
    weekend_rate=6,
)

RESEARCH_AGENT = AgentSpec(
    agent_id="research-agent",
    owner="strategy@acme.com",
    purpose="Researches topics on the web, delegates reading to sub-agents, writes briefs.",
    business_value=2,
    declared=_scores(2, 2, 5, 2, 3, 3),
    allowed_tools=("web_search", "fetch_url", "read_file", "write_file", "http_request", "post_message",
                   "publish_report"),
    scope=_scope(
        hosts=["arxiv.org", "export.arxiv.org", "api.semanticscholar.org", "en.wikipedia.org", "github.com",
               "openreview.net", "www.gartner.com", "techcrunch.com", "www.theregister.com",
               "blog.acme.com", "slack.acme.com"],
        repos=["*/*"],  # public repositories on github.com
        paths=["/research/**"],
    ),
    approval_required=("publish_report",),
    model="claude-opus-4-1",
    humans=("hannah.meyer@acme.com", "marco.bianchi@acme.com"),
    approvers=(("hannah.meyer@acme.com", "hannah-2026"),),
    hours=RESEARCH,
    weekday_rate=5,
    weekend_rate=2,
)


def _mail_assistant(seed: int) -> AgentSpec:
    known = vendors(seed)
    return AgentSpec(
        agent_id="mail-assistant",
        owner="exec-office@acme.com",
        purpose="Triages the executives' inbox, drafts replies, schedules meetings, pays approved invoices.",
        business_value=3,
        declared=_scores(3, 3, 2, 4, 4, 3),
        allowed_tools=("list_inbox", "read_email", "send_email", "list_calendar", "create_event",
                       "search_contacts", "schedule_payment"),
        scope=_scope(emails=["*@acme.com"] + [f"*@{v.email.split('@')[1]}" for v in known],
                     accounts=[v.iban for v in known], hosts=["mail.acme.com", "calendar.acme.com"]),
        approval_required=("schedule_payment",),
        model="gpt-4o",
        humans=("rachel.kim@acme.com", "daniel.wright@acme.com"),
        approvers=(("rachel.kim@acme.com", "rachel-2026"), ("daniel.wright@acme.com", "daniel-2026")),
        hours=OFFICE,
        weekday_rate=15,
        weekend_rate=4,
    )


def inventory_doc(fleet: tuple[AgentSpec, ...], keyring: Keyring) -> dict[str, Any]:
    """The fleet as the inventory document `agentwatch.inventory` reads."""
    entries = []
    for spec in fleet:
        key_ids = [key_id for _, key_id in spec.approvers]
        entries.append({
            "agent_id": spec.agent_id,
            "owner": spec.owner,
            "purpose": spec.purpose,
            "business_value": spec.business_value,
            "declared": dict(spec.declared),
            "allowed_tools": list(spec.allowed_tools),
            "scope": spec.scope,
            "approval_required": list(spec.approval_required),
            "approval_keys": keyring.public_keys(key_ids),
        })
    return {"agents": entries}


def write_inventory(path: Path, fleet: tuple[AgentSpec, ...], keyring: Keyring) -> None:
    """Write agents.yaml for the fleet."""
    header = "# Agent inventory of the generated sample fleet (format: agentwatch/inventory.py).\n"
    body = yaml.safe_dump(inventory_doc(fleet, keyring), sort_keys=False, width=110)
    path.write_text(header + body, encoding="utf-8")


def all_key_ids(fleet: tuple[AgentSpec, ...]) -> list[str]:
    """Every approver key in the fleet."""
    return [key_id for spec in fleet for _, key_id in spec.approvers]
