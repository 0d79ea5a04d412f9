"""Guardrail rules as data: load, validate and compile Sigma-like YAML rules to DuckDB SQL.

A rule file holds one rule: `id`, `title`, `status`, `level`, `description`, `references`,
`falsepositives`, `tags` (framework control and incident pattern), a `match` and its `samples`
(story-like sessions that must fire and must stay silent; detectors/detect/rule_tests.py runs them).

`match` is one of
  step:      a condition over `detect_steps` (one row per step); `min_count: N` asks for N steps
  sequence:  a list of step conditions that must occur in this order within one session; a stage
             with `uses_entities: true` must name (in its resources) an entity the previous stage named
  session:   a condition over `detect_sessions` (one row per session); `evidence:` a step condition
             naming the events that back it
A condition is a mapping whose keys all hold (AND): `field: value` (a list: any of them),
`field|op: value` with op in OPS, `category: name` (the step's `is_<name>` column), `any_of: [...]`,
`all_of: [...]`, `not: {...}`. Values are always bound as parameters; field names are identifiers.
Errors name the file and line (`... in detectors/detect/builtin_rules/x.yml:12`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentwatch.errors import ConfigError

BUILTIN_RULES_DIR = Path(__file__).parent / "builtin_rules"
LEVELS = ("low", "medium", "high", "critical")
STATUSES = ("stable", "test", "experimental", "deprecated")
MATCH_KINDS = ("step", "sequence", "session")
REQUIRED = ("id", "title", "level", "description", "tags", "match", "samples")
OPTIONAL = ("status", "references", "falsepositives", "author")
OPS = ("eq", "ne", "re", "contains", "gt", "gte", "lt", "lte", "nonempty", "null")
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
MAX_EVIDENCE = 20


@dataclass(frozen=True)
class Rule:
    """One validated rule and where it came from."""

    id: str
    title: str
    level: str
    description: str
    tags: tuple[str, ...]
    match: Mapping[str, Any]
    samples: Mapping[str, Any]
    path: str
    line: int
    status: str = "stable"
    references: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """file:line of the rule, for errors."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class CompiledRule:
    """A rule's SQL (rows: agent_id, session_id, evidence_event_ids, ts) and its bound parameters."""

    rule: Rule
    sql: str
    params: list[Any] = field(default_factory=list)


class _Located(dict):
    """A YAML mapping that remembers the line of each key."""

    line = 0
    lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Located:
        mapping = _Located(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        return mapping


_LineLoader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node))


def load_rules(dirs: Iterable[str | Path], *, errors: list[ConfigError] | None = None) -> list[Rule]:
    """Every `*.yml` rule in the folders (built-in first, then the user's), ids unique.

    With `errors` given, broken files are collected there and skipped; otherwise the first raises.
    """
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in rule_files(dirs):
        try:
            rule = load_rule(path)
            if rule.id in seen:
                raise ConfigError(f"duplicate rule id {rule.id!r} (first in {seen[rule.id]})", rule.where)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        seen[rule.id] = rule.where
        rules.append(rule)
    return rules


def rule_files(dirs: Iterable[str | Path]) -> list[Path]:
    """The rule files of the given folders (or files), each folder sorted by name."""
    files: list[Path] = []
    for entry in dirs:
        path = Path(entry)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted([*path.glob("*.yml"), *path.glob("*.yaml")]))
        else:
            raise ConfigError("rules folder or file not found", str(path))
    return files


def load_rule(path: str | Path) -> Rule:
    """Read and validate one rule file."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise ConfigError(f"cannot read rule: {exc}", str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                          f"{path}:{mark.line + 1}" if mark else str(path)) from exc
    if not isinstance(doc, _Located):
        raise ConfigError("a rule file must hold one mapping", f"{path}:1")
    return _parse_rule(doc, str(path))


def _parse_rule(doc: _Located, path: str) -> Rule:
    where = lambda key: f"{path}:{doc.lines.get(key, doc.line)}"  # noqa: E731
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise ConfigError(f"rule lacks {', '.join(missing)}", f"{path}:{doc.line}")
    unknown = sorted(set(doc) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ConfigError(f"unknown rule keys {unknown}", where(unknown[0]))
    if not isinstance(doc["id"], str) or not RULE_ID.match(doc["id"]):
        raise ConfigError(f"`id` must be lowercase letters, digits and dashes, got {doc['id']!r}", where("id"))
    if doc["level"] not in LEVELS:
        raise ConfigError(f"`level` must be one of {', '.join(LEVELS)}, got {doc['level']!r}", where("level"))
    status = doc.get("status", "stable")
    if status not in STATUSES:
        raise ConfigError(f"`status` must be one of {', '.join(STATUSES)}, got {status!r}", where("status"))
    for key in ("title", "description"):
        if not isinstance(doc[key], str) or not doc[key].strip():
            raise ConfigError(f"`{key}` must be a non-empty string", where(key))
    tags = _strings(doc, "tags", where)
    if not any(t.startswith("control.") for t in tags):
        raise ConfigError("`tags` must name a framework control (control.<name>)", where("tags"))
    _check_match(doc["match"], f"{path}:{doc.lines.get('match', doc.line)}", path)
    _check_samples(doc["samples"], where("samples"))
    return Rule(
        id=doc["id"], title=doc["title"].strip(), level=doc["level"], description=doc["description"].strip(),
        tags=tags, match=doc["match"], samples=doc["samples"], path=path, line=doc.line, status=status,
        references=_strings(doc, "references", where), falsepositives=_strings(doc, "falsepositives", where),
    )


def _strings(doc: _Located, key: str, where: Any) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings", where(key))
    return tuple(value)


def _check_match(match: Any, where: str, path: str) -> None:
    if not isinstance(match, dict):
        raise ConfigError("`match` must be a mapping", where)
    kinds = [k for k in MATCH_KINDS if k in match]
    if len(kinds) != 1:
        raise ConfigError(f"`match` needs exactly one of {', '.join(MATCH_KINDS)}", where)
    unknown = sorted(set(match) - {*MATCH_KINDS, "min_count", "evidence"})
    if unknown:
        raise ConfigError(f"unknown match keys {unknown}", where)
    stages = match["sequence"] if kinds[0] == "sequence" else [match[kinds[0]]]
    if kinds[0] == "sequence" and (not isinstance(stages, list) or len(stages) < 2):
        raise ConfigError("`sequence` must list at least two step conditions", where)
    for stage in [*stages, *([match["evidence"]] if "evidence" in match else [])]:
        _compile_condition(_stage_condition(stage), "d", [], _where_of(stage, path, where))


def _check_samples(samples: Any, where: str) -> None:
    if not isinstance(samples, dict) or set(samples) - {"fire", "silent"}:
        raise ConfigError("`samples` must be a mapping with `fire` and `silent` lists", where)
    for key in ("fire", "silent"):
        if not isinstance(samples.get(key), list) or not samples[key]:
            raise ConfigError(f"`samples.{key}` must list at least one sample", where)


def _where_of(node: Any, path: str, fallback: str) -> str:
    return f"{path}:{node.line}" if isinstance(node, _Located) else fallback


def compile_rule(rule: Rule) -> CompiledRule:
    """The rule as one SQL query over `detect_steps` / `detect_sessions`, with its parameters."""
    params: list[Any] = []
    match = rule.match
    if "step" in match:
        sql = _compile_step(match["step"], int(match.get("min_count", 1)), params, rule.where)
    elif "sequence" in match:
        sql = _compile_sequence(match["sequence"], params, rule.where)
    else:
        sql = _compile_session(match["session"], match.get("evidence"), params, rule.where)
    return CompiledRule(rule, sql, params)


def _compile_step(cond: Any, min_count: int, params: list[Any], where: str) -> str:
    condition = _compile_condition(cond, "d", params, where)
    params.append(min_count)
    return (f"select d.agent_id, d.session_id, list(d.event_id order by d.step_index)[1:{MAX_EVIDENCE}] "
            f"as evidence_event_ids, min(d.event_at) as ts from detect_steps d where {condition} "
            f"group by d.agent_id, d.session_id having count(*) >= ?")


def _compile_sequence(stages: Sequence[Any], params: list[Any], where: str) -> str:
    # Each stage keeps, per session, the earliest step after the previous stage's step (greedy earliest
    # matching finds an ordered occurrence whenever one exists); a stage that must reuse the previous
    # stage's entities keeps every candidate of that previous stage instead.
    ctes = []
    for k, stage in enumerate(stages, start=1):
        condition = _compile_condition(_stage_condition(stage), "d", params, where)
        keep_all = k < len(stages) and bool(_stage_option(stages[k], "uses_entities"))
        if k == 1:
            body = (f"select d.agent_id, d.session_id, d.step_index as idx, [d.event_id] as chain, "
                    f"d.event_at as ts, d.entities as ents from detect_steps d where {condition}")
        else:
            extra = (" and len(list_intersect(list_transform(d.resources, lambda r: r.kind || ':' || r.value), "
                     "list_transform(p.ents, lambda r: r.kind || ':' || r.value))) > 0"
                     if _stage_option(stage, "uses_entities") else "")
            body = (f"select p.agent_id, p.session_id, d.step_index as idx, list_append(p.chain, d.event_id) as chain, "
                    f"p.ts, d.entities as ents from s{k - 1} p join detect_steps d on d.agent_id = p.agent_id "
                    f"and d.session_id = p.session_id and d.step_index > p.idx{extra} where {condition}")
        if not keep_all:
            body = (f"select agent_id, session_id, arg_min(idx, idx) as idx, arg_min(chain, idx) as chain, "
                    f"arg_min(ts, idx) as ts, arg_min(ents, idx) as ents from ({body}) group by agent_id, session_id")
        ctes.append(f"s{k} as ({body})")
    last = f"s{len(stages)}"
    return (f"with {', '.join(ctes)} select agent_id, session_id, arg_min(chain, idx) as evidence_event_ids, "
            f"min(ts) as ts from {last} group by agent_id, session_id")


def _stage_condition(stage: Any) -> Any:
    if isinstance(stage, dict) and "uses_entities" in stage:
        return {k: v for k, v in stage.items() if k != "uses_entities"}
    return stage


def _stage_option(stage: Any, key: str) -> Any:
    return stage.get(key) if isinstance(stage, dict) else None


def _compile_session(cond: Any, evidence: Any, params: list[Any], where: str) -> str:
    if evidence is None:
        condition = _compile_condition(cond, "s", params, where)
        return (f"select s.agent_id, s.session_id, []::varchar[] as evidence_event_ids, s.started_at as ts "
                f"from detect_sessions s where {condition}")
    backing = _compile_condition(evidence, "d", params, where)  # its `?` come first in the text
    condition = _compile_condition(cond, "s", params, where)
    return (f"with e as (select d.agent_id, d.session_id, list(d.event_id order by d.step_index)[1:{MAX_EVIDENCE}] "
            f"as ids, min(d.event_at) as ts from detect_steps d where {backing} group by all) "
            f"select s.agent_id, s.session_id, coalesce(e.ids, []::varchar[]) as evidence_event_ids, "
            f"coalesce(e.ts, s.started_at) as ts from detect_sessions s left join e using (agent_id, session_id) "
            f"where {condition}")


def _compile_condition(cond: Any, alias: str, params: list[Any], where: str) -> str:
    """SQL for one condition mapping (keys ANDed); values appended to params in order."""
    if not isinstance(cond, dict) or not cond:
        raise ConfigError("a condition must be a non-empty mapping", where)
    where = _where_of(cond, where.rsplit(":", 1)[0], where)
    parts = []
    for key, value in cond.items():
        if key in ("any_of", "all_of"):
            if not isinstance(value, list) or not value:
                raise ConfigError(f"`{key}` must list conditions", where)
            joiner = " or " if key == "any_of" else " and "
            parts.append("(" + joiner.join(_compile_condition(v, alias, params, where) for v in value) + ")")
        elif key == "not":
            parts.append(f"not coalesce({_compile_condition(value, alias, params, where)}, false)")
        elif key == "category":
            names = value if isinstance(value, list) else [value]
            parts.append("(" + " or ".join(f"{alias}.{_column('is_' + str(n), where)}" for n in names) + ")")
        elif key == "uses_entities":
            raise ConfigError("`uses_entities` is allowed only on a later stage of a sequence", where)
        else:
            parts.append(_compile_field(key, value, alias, params, where))
    return "(" + " and ".join(parts) + ")"


def _compile_field(key: str, value: Any, alias: str, params: list[Any], where: str) -> str:
    name, _, op = str(key).partition("|")
    op = op or "eq"
    if op not in OPS:
        raise ConfigError(f"unknown operator {op!r} in {key!r}; known: {', '.join(OPS)}", where)
    column = f"{alias}.{_column(name, where)}"
    if op in ("nonempty", "null"):
        if not isinstance(value, bool):
            raise ConfigError(f"`{key}` takes true or false", where)
        test = f"coalesce(len({column}) > 0, false)" if op == "nonempty" else f"{column} is null"
        return test if value else f"not ({test})"
    values = value if isinstance(value, list) else [value]
    if not values or any(isinstance(v, dict | list) or v is None for v in values):
        raise ConfigError(f"`{key}` takes a value or a list of values", where)
    if op == "re":
        for v in values:
            _check_regex(str(v), key, where)
    sql = {"eq": "{c} = ?", "ne": "{c} <> ?", "re": "regexp_matches(lower(cast({c} as varchar)), ?)",
           "contains": "list_contains({c}, ?)", "gt": "{c} > ?", "gte": "{c} >= ?", "lt": "{c} < ?",
           "lte": "{c} <= ?"}[op]
    params.extend(values)
    return "(" + " or ".join(sql.format(c=column) for _ in values) + ")"


def _column(name: str, where: str) -> str:
    if not IDENTIFIER.match(name):
        raise ConfigError(f"{name!r} is not a column name", where)
    return f'"{name}"'


def _check_regex(pattern: str, key: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"bad regular expression in {key!r}: {exc}", where) from exc
