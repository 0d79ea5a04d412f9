"""Rule files as users write them: errors name the file and line, user folders load beside the
built-in catalog, `rules list` and `rules test [FILE...]` work from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentwatch.cli import cli
from agentwatch.detectors.detect.rule_tests import run_samples
from agentwatch.detectors.detect.rules import BUILTIN_RULES_DIR, compile_rule, load_rule, load_rules
from agentwatch.errors import ConfigError

GOOD = """\
id: my-prod-shell
title: Shell on a production host
level: high
description: Any shell command run on a host named like production.
tags: [control.segmentation, pattern.scope_creep]
references: []
falsepositives: [on-call debugging]
match:
  step:
    tool_kind: shell
    tool_args|re: 'prod-\\w+\\.acme'
samples:
  fire:
    - events:
        - user: check the disk
        - call: {tool: shell, args: {host: prod-db1.acme.internal, command: df -h}}
        - result: "80%"
  silent:
    - events:
        - user: check the disk
        - call: {tool: shell, args: {host: dev-db1.acme.internal, command: df -h}}
        - result: "80%"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("edit", "message", "line"), [
    (lambda t: t.replace("level: high", "level: severe"), "`level` must be one of", 3),
    (lambda t: t.replace("tool_args|re:", "tool_args|like:"), "unknown operator 'like'", 10),
    (lambda t: t.replace("title: Shell", "titel: Shell"), "rule lacks title", 1),
    (lambda t: t + "colour: red\n", "unknown rule keys ['colour']", 23),
    (lambda t: t.replace("tool_kind: shell", "tool_kind: [shell"), "not valid YAML", 11),
    (lambda t: t.replace("'prod-\\w+\\.acme'", "'prod-(unclosed'"), "bad regular expression", 10),
    (lambda t: t.replace("tags: [control.segmentation, ", "tags: ["), "framework control", 5),
])
def test_a_broken_rule_names_its_file_and_line(tmp_path, edit, message, line):
    path = write(tmp_path, "r.yml", edit(GOOD))
    with pytest.raises(ConfigError) as err:
        load_rule(path)
    assert message in str(err.value)
    assert err.value.where == f"{path}:{line}"


def test_user_rules_load_beside_the_builtin_ones_and_their_samples_run(tmp_path):
    write(tmp_path / "mine", "prod.yml", GOOD)
    rules = load_rules([BUILTIN_RULES_DIR, tmp_path / "mine"])
    assert rules[-1].id == "my-prod-shell" and len(rules) > 20
    outcomes = run_samples([rules[-1]])
    assert [(o.expect, o.ok) for o in outcomes] == [("fire", True), ("silent", True)]


def test_duplicate_ids_are_refused_or_collected(tmp_path):
    write(tmp_path / "a", "one.yml", GOOD)
    write(tmp_path / "a", "two.yml", GOOD)
    with pytest.raises(ConfigError, match="duplicate rule id 'my-prod-shell'"):
        load_rules([tmp_path / "a"])
    errors: list[ConfigError] = []
    assert len(load_rules([tmp_path / "a"], errors=errors)) == 1
    assert errors[0].where.endswith("two.yml:1")


def test_values_are_bound_never_spliced_into_the_sql(tmp_path):
    hostile = GOOD.replace("tool_kind: shell", "tool_kind: \"shell' or 1=1 --\"")
    compiled = compile_rule(load_rule(write(tmp_path, "h.yml", hostile)))
    assert "1=1" not in compiled.sql and "shell' or 1=1 --" in compiled.params


def test_ordered_sequences_fire_only_in_order(tmp_path):
    rule = GOOD.replace("""  step:
    tool_kind: shell
    tool_args|re: 'prod-\\w+\\.acme'""", """  sequence:
    - tool_name: read_email
    - tool_name: send_email
      uses_entities: true""")
    rule = rule[:rule.index("samples:")] + """samples:
  fire:
    - name: reads, then writes to the address it read
      events:
        - user: handle the inbox
        - call: {tool: read_email, args: {from: x@evil.example}}
        - result: "hi"
        - call: {tool: send_email, args: {to: x@evil.example}}
        - result: "sent"
  silent:
    - name: writes first, reads later
      events:
        - user: handle the inbox
        - call: {tool: send_email, args: {to: x@evil.example}}
        - result: "sent"
        - call: {tool: read_email, args: {from: x@evil.example}}
        - result: "hi"
    - name: reads, then writes to someone else
      events:
        - user: handle the inbox
        - call: {tool: read_email, args: {from: x@evil.example}}
        - result: "hi"
        - call: {tool: send_email, args: {to: boss@acme.com}}
        - result: "sent"
"""
    outcomes = run_samples([load_rule(write(tmp_path, "seq.yml", rule))])
    assert [o.ok for o in outcomes] == [True, True, True]


def test_rules_list_and_rules_test_from_the_command_line(tmp_path):
    good = write(tmp_path / "mine", "prod.yml", GOOD)
    result = CliRunner().invoke(cli, ["rules", "test", str(good)])
    assert result.exit_code == 0 and "1 rules, 2 samples, 0 failed" in result.output
    wrong = write(tmp_path / "bad", "wrong.yml", GOOD.replace("prod-db1", "dev-db2"))
    result = CliRunner().invoke(cli, ["rules", "test", str(wrong)])
    assert result.exit_code == 1 and "FAIL  my-prod-shell  must fire" in result.output
    listed = CliRunner(env={"AGENTWATCH_RULES_DIRS": str(tmp_path / "mine")}).invoke(cli, ["rules", "list"])
    assert listed.exit_code == 0 and "my-prod-shell" in listed.output and "ransom-artifact" in listed.output


def test_a_broken_rule_exits_2_naming_file_and_line(tmp_path):
    broken = write(tmp_path, "b.yml", GOOD.replace("level: high", "level: severe"))
    done = subprocess.run([sys.executable, "-c", "from agentwatch.cli import main; main()", "rules", "test",
                           str(broken)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"agentwatch: error: `level` must be one of low, medium, high, critical, got 'severe' in {broken}:3" \
        in done.stderr
