"""Escalation playbooks: which alerts get which actions (YAML, validated; errors name file and key).

    playbooks:
      - id: page-on-call
        match: {levels: [high, critical], rules: [forged-approval], agents: ["cicd-*"]}
        actions:
          - id: page                                  # optional; default <kind>-<position>
            webhook: {format: pagerduty, routing_key_env: PD_ROUTING_KEY}
          - webhook: {url_env: SLACK_WEBHOOK_URL, format: slack}
          - webhook: {url: "https://hooks.example.com/aw", format: json,
                      headers: {X-Team: secops}, headers_env: {Authorization: AW_HOOK_TOKEN}}
          - command: {argv: [/opt/revoke-role.sh], timeout_s: 30}
          - pause: {}
        # every action may also set attempts (per run, default 3) and backoff_s (default 2, doubling)

`match` keys are ANDed; a missing key matches everything; `rules` matches when any of the alert's
rule ids is listed; `agents` are shell-style patterns. Secrets never live in the file: a webhook URL
that is itself a secret (Slack's are) comes from `url_env`, secret headers from `headers_env`, the
PagerDuty routing key from `routing_key_env` — each names an environment variable, read when the
playbooks are loaded. Literal `routing_key` or credential-looking headers are refused.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from agentwatch.errors import ConfigError

LEVELS = ("low", "medium", "high", "critical")
ACTION_KINDS = ("webhook", "command", "pause")
FORMATS = ("json", "slack", "pagerduty")
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
# Header names that carry credentials: their values must come from headers_env.
SECRET_HEADER = re.compile(r"authorization|token|secret|api[-_]?key|password|cookie|signature", re.IGNORECASE)
_WEBHOOK_KEYS = {"url", "url_env", "format", "headers", "headers_env", "routing_key_env", "timeout_s"}
_COMMAND_KEYS = {"argv", "timeout_s"}
_COMMON_KEYS = {"id", "attempts", "backoff_s"}


@dataclass(frozen=True)
class Match:
    """Which alerts a playbook takes: None means any."""

    levels: tuple[str, ...] | None = None
    rules: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None

    def matches(self, alert: Mapping[str, Any]) -> bool:
        """Does the alert satisfy every condition given?"""
        if self.levels is not None and alert.get("level") not in self.levels:
            return False
        if self.rules is not None and not set(alert.get("rule_ids") or ()) & set(self.rules):
            return False
        agent = alert.get("agent_id") or ""
        return self.agents is None or any(fnmatch.fnmatchcase(agent, p) for p in self.agents)


@dataclass(frozen=True)
class Action:
    """One action of a playbook; `options` holds the kind's settings with secrets already resolved."""

    action_id: str
    kind: str
    options: Mapping[str, Any]
    attempts: int = 3
    backoff_s: float = 2.0
    where: str = ""

    def __repr__(self) -> str:  # never print resolved secrets
        return f"Action({self.action_id!r}, {self.kind!r})"


@dataclass(frozen=True)
class Playbook:
    """A named rule: alerts it matches get each of its actions once."""

    playbook_id: str
    match: Match
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Playbooks:
    """Every playbook of one file."""

    path: str
    playbooks: tuple[Playbook, ...] = field(default_factory=tuple)

    def due(self, alert: Mapping[str, Any]) -> list[tuple[Playbook, Action]]:
        """The (playbook, action) pairs this alert should get."""
        return [(p, a) for p in self.playbooks if p.match.matches(alert) for a in p.actions]


def load_playbooks(path: str | Path, env: Mapping[str, str] | None = None) -> Playbooks:
    """Read and validate a playbook file; secrets are read from `env` (default: the environment)."""
    env = os.environ if env is None else env
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read playbooks: {exc}", str(path)) from exc
    entries = doc.get("playbooks") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConfigError("playbooks file must have a top-level list `playbooks`", str(path))
    books = [_parse_playbook(entry, f"{path}: playbooks[{i}]", env) for i, entry in enumerate(entries)]
    ids = [b.playbook_id for b in books]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise ConfigError(f"duplicate playbook id {duplicate!r}", f"{path}: playbooks")
    return Playbooks(str(path), tuple(books))


def _parse_playbook(entry: Any, where: str, env: Mapping[str, str]) -> Playbook:
    _expect_mapping(entry, where, {"id", "match", "actions", "description"})
    playbook_id = _identifier(entry.get("id"), f"{where}.id")
    where = f"{where} ({playbook_id})"
    actions = entry.get("actions")
    if not isinstance(actions, list) or not actions:
        raise ConfigError("`actions` must be a non-empty list", f"{where}.actions")
    parsed = tuple(_parse_action(a, i, f"{where}.actions[{i}]", env) for i, a in enumerate(actions))
    ids = [a.action_id for a in parsed]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"action ids must be unique, got {ids}", f"{where}.actions")
    return Playbook(playbook_id, _parse_match(entry.get("match"), f"{where}.match"), parsed)


def _parse_match(match: Any, where: str) -> Match:
    if match is None:
        return Match()
    _expect_mapping(match, where, {"levels", "rules", "agents"})
    lists = {key: _string_list(match[key], f"{where}.{key}") for key in ("levels", "rules", "agents") if key in match}
    unknown = sorted(set(lists.get("levels", ())) - set(LEVELS))
    if unknown:
        raise ConfigError(f"unknown levels {unknown}; known: {', '.join(LEVELS)}", f"{where}.levels")
    return Match(**lists)


def _parse_action(entry: Any, index: int, where: str, env: Mapping[str, str]) -> Action:
    if not isinstance(entry, dict):
        raise ConfigError("an action must be a mapping", where)
    kinds = [k for k in ACTION_KINDS if k in entry]
    if len(kinds) != 1:
        raise ConfigError(f"an action needs exactly one of {', '.join(ACTION_KINDS)}, got {kinds or 'none'}", where)
    kind = kinds[0]
    _expect_mapping(entry, where, {kind, *_COMMON_KEYS})
    options = entry[kind] if entry[kind] is not None else {}
    parse = {"webhook": _parse_webhook, "command": _parse_command, "pause": _parse_pause}[kind]
    resolved = parse(options, f"{where}.{kind}", env)
    attempts = entry.get("attempts", 3)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 20:
        raise ConfigError(f"`attempts` must be an integer from 1 to 20, got {attempts!r}", f"{where}.attempts")
    return Action(
        action_id=_identifier(entry.get("id", f"{kind}-{index + 1}"), f"{where}.id"),
        kind=kind,
        options=MappingProxyType(resolved),
        attempts=attempts,
        backoff_s=_seconds(entry.get("backoff_s", 2.0), f"{where}.backoff_s", allow_zero=True),
        where=where,
    )


def _parse_webhook(options: Any, where: str, env: Mapping[str, str]) -> dict[str, Any]:
    if isinstance(options, dict) and "routing_key" in options:
        raise ConfigError("secrets never live in the file: name an environment variable in `routing_key_env`",
                          f"{where}.routing_key")
    _expect_mapping(options, where, _WEBHOOK_KEYS)
    fmt = options.get("format", "json")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}", f"{where}.format")
    headers = {str(k): str(v) for k, v in _mapping(options.get("headers"), f"{where}.headers").items()}
    secret = next((name for name in headers if SECRET_HEADER.search(name)), None)
    if secret:
        raise ConfigError(f"header {secret!r} carries a credential: name an environment variable in `headers_env`",
                          f"{where}.headers")
    for name, var in _mapping(options.get("headers_env"), f"{where}.headers_env").items():
        headers[str(name)] = _from_env(var, f"{where}.headers_env.{name}", env)
    url = options.get("url")
    if "url_env" in options:
        url = _from_env(options["url_env"], f"{where}.url_env", env)
    url = url or (PAGERDUTY_URL if fmt == "pagerduty" else None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError("a webhook needs an http(s) `url` or `url_env`", f"{where}.url")
    resolved = {"url": url, "format": fmt, "headers": headers,
                "timeout_s": _seconds(options.get("timeout_s", 10), f"{where}.timeout_s")}
    if fmt == "pagerduty":
        if "routing_key_env" not in options:
            raise ConfigError("a pagerduty webhook needs `routing_key_env`", f"{where}.routing_key_env")
        resolved["routing_key"] = _from_env(options["routing_key_env"], f"{where}.routing_key_env", env)
    return resolved


def _parse_command(options: Any, where: str, env: Mapping[str, str]) -> dict[str, Any]:
    _expect_mapping(options, where, _COMMAND_KEYS)
    argv = options.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
        raise ConfigError("`argv` must be a non-empty list of strings (no shell)", f"{where}.argv")
    return {"argv": tuple(argv), "timeout_s": _seconds(options.get("timeout_s", 60), f"{where}.timeout_s")}


def _parse_pause(options: Any, where: str, env: Mapping[str, str]) -> dict[str, Any]:
    _expect_mapping(options, where, set())
    return {}


def _from_env(name: Any, where: str, env: Mapping[str, str]) -> str:
    if not isinstance(name, str) or not name:
        raise ConfigError("must name an environment variable", where)
    if not env.get(name):
        raise ConfigError(f"environment variable {name} is not set", where)
    return env[name]


def _expect_mapping(value: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(value, dict):
        raise ConfigError("must be a mapping", where)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ConfigError(f"unknown keys {unknown}; known: {', '.join(sorted(allowed)) or 'none'}", where)


def _mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("must be a mapping", where)
    return value


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("must be a list of strings", where)
    return tuple(value)


def _identifier(value: Any, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ConfigError(f"must be an id of letters, digits and _.:- (got {value!r})", where)
    return value


def _seconds(value: Any, where: str, *, allow_zero: bool = False) -> float:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not (value >= 0 if allow_zero else value > 0) or value > 3600:
        raise ConfigError(f"must be a number of seconds up to 3600, got {value!r}", where)
    return float(value)
