"""Mistakes a new user makes, each answered on one line with exit 2: `agentwatch: error: <what> in <where>`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agentwatch.detectors.metrics.run import run_metrics
from tests.support.native_lines import line, write_lines

AT_15 = "in the query at line 1, column 15"


def ingested(lake: Path, tmp_path: Path, *lines: bytes) -> Path:
    from agentwatch.ingest.pipeline import ingest_paths

    ingest_paths(lake, [write_lines(tmp_path / "in.jsonl", list(lines) or [line(seq=1)])])
    return lake


def error(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.removesuffix("\n")


def test_a_misspelt_view_keeps_duckdbs_suggestion(aw, tmp_path: Path, lake: Path) -> None:
    run_metrics(ingested(lake, tmp_path), {})
    code, out, err = aw("--lake", str(lake), "sql", "select * from sesions")
    assert (code, out) == (2, "")
    assert error(err) == ('agentwatch: error: Catalog Error: Table with name sesions does not exist! '
                          f'Did you mean "sessions"? {AT_15}')


def test_a_misspelt_column_names_the_candidates(aw, tmp_path: Path, lake: Path) -> None:
    code, _, err = aw("--lake", str(ingested(lake, tmp_path)), "sql", "select agent_id,\n  sequ from events")
    assert code == 2
    assert error(err).startswith('agentwatch: error: Binder Error: Referenced column "sequ" not found in FROM '
                                 'clause! Candidate bindings: "seq"')
    assert err.endswith("in the query at line 2, column 3\n")


def test_views_of_stages_not_yet_run_say_which_stage_to_run(aw, tmp_path: Path, lake: Path) -> None:
    ingested(lake, tmp_path)
    code, _, err = aw("--lake", str(lake), "sql", "select * from sessions")
    assert (code, error(err)) == (2, "agentwatch: error: no view sessions in this lake yet (run `agentwatch "
                                     f"metrics` or `agentwatch run` first) {AT_15}")
    code, _, err = aw("--lake", str(lake), "sql", "select * from agents")
    assert (code, error(err)) == (2, "agentwatch: error: no view agents in this lake yet (it lists the inventory: "
                                     f"give --inventory FILE or set AGENTWATCH_INVENTORY) {AT_15}")


def test_scores_before_detect_say_to_run_detect(aw, tmp_path: Path, lake: Path) -> None:
    run_metrics(ingested(lake, tmp_path), {})
    code, _, err = aw("--lake", str(lake), "sql", "select risk_score from sessions")
    assert code == 2 and error(err).startswith('agentwatch: error: Binder Error: Referenced column "risk_score"')
    assert err.endswith("; sessions get risk_score once `agentwatch detect` has run in the query at line 1, "
                        "column 8\n")


def test_reading_a_file_is_refused_plainly(aw, tmp_path: Path, lake: Path) -> None:
    ingested(lake, tmp_path)
    code, _, err = aw("--lake", str(lake), "sql", "select * from read_text('/etc/passwd')")
    assert (code, error(err)) == (2, "agentwatch: error: reading files is refused (/etc/passwd): a query reads "
                                     f"only the lake's views (`show tables` lists them) {AT_15}")


def test_lake_values_quoted_in_an_error_are_inert(aw, tmp_path: Path, lake: Path) -> None:
    ingested(lake, tmp_path, line(seq=1, text="\x1b[2J\u202eowned\nline two"))
    code, _, err = aw("--lake", str(lake), "sql", "select cast(text as int) from events")
    assert code == 2 and "\x1b" not in err and "\u202e" not in err
    assert error(err).startswith("agentwatch: error: Conversion Error: Could not convert string "
                                 "'\\u001b[2J\\u202eowned line two' to INT32")


def test_more_than_one_statement_is_refused(aw, tmp_path: Path, lake: Path) -> None:
    ingested(lake, tmp_path)
    code, out, err = aw("--lake", str(lake), "sql", "select 1; select 2")
    assert (code, out, err) == (2, "", "agentwatch: error: 2 statements given; run one query at a time in the query\n")
    code, out, _ = aw("--lake", str(lake), "sql", "select 1 as one;", "--format", "csv")
    assert (code, out) == (0, "one\r\n1\r\n")


def test_a_syntax_error_points_at_it(aw, tmp_path: Path, lake: Path) -> None:
    code, _, err = aw("--lake", str(ingested(lake, tmp_path)), "sql", "selec 1")
    assert (code, err) == (2, 'agentwatch: error: Parser Error: syntax error at or near "selec" in the query at '
                              'line 1, column 1\n')


@pytest.mark.parametrize(("args", "message"), [
    (["metrics", "--baseline-days", "-3"], "must be a whole number of 1 or more, got -3 in --baseline-days"),
    (["metrics", "--baseline-days", "two"], "must be a whole number of 1 or more, got 'two' in --baseline-days"),
    (["sql", "select 1", "--max-width", "0", "--max-width", "-1"],
     "must be 0 (never cut) or a width of 4 or more, got -1 in --max-width"),
    (["sql", "select 1", "--max-width", "2"], "must be 0 (never cut) or a width of 4 or more, got 2 in --max-width"),
    (["sql", "select 1", "--limit", "-5"], "must be 0 (every row) or a whole number of rows, got -5 in --limit"),
    (["sql", "select 1", "--format", "csv", "--vertical"],
     "a vertical layout is for --format table, not csv in --vertical"),
    (["sample", "--out", "x", "--days", "0"], "must be a whole number of 1 or more, got 0 in --days"),
    (["sample", "--out", "x", "--scale", "0"], "must be a number above 0, got 0 in --scale"),
    (["sample", "--out", "x", "--start", "2026-13-01"], "must be a day as YYYY-MM-DD, got '2026-13-01' in --start"),
    (["receive", "--port", "70000"], "must be a port from 1 to 65535, got 70000 in --port"),
    (["sample"], "required option missing in --out"),
    (["shwo"], "No such command 'shwo'. Did you mean 'show'? in agentwatch"),
])
def test_flags_are_checked_where_they_are_read(aw, lake: Path, args: list[str], message: str) -> None:
    code, out, err = aw("--lake", str(lake), *args)
    assert (code, out, err) == (2, "", f"agentwatch: error: {message}\n")


@pytest.mark.parametrize(("value", "message"), [
    ("lots", "`memory_limit` must be a size like 512MB or 2GB, got 'lots'"),
    ("2 GB", None), ("512MiB", None), ("1.5gb", None),
])
def test_memory_limit_is_a_size(aw, monkeypatch, lake: Path, value: str, message: str | None) -> None:
    monkeypatch.setenv("AGENTWATCH_MEMORY_LIMIT", value)
    (lake / "_manifest").mkdir(parents=True)  # a lake: `sql` refuses where there is none
    code, _, err = aw("--lake", str(lake), "sql", "select 1")
    expected = (2, f"agentwatch: error: {message} in AGENTWATCH_MEMORY_LIMIT\n") if message else (0, "")
    assert (code, err) == expected


def test_settings_out_of_range_name_the_config_file(aw, tmp_path: Path, lake: Path) -> None:
    config = tmp_path / "agentwatch.toml"
    config.write_text("receiver_port = 0\n")
    code, _, err = aw("--config", str(config), "--lake", str(lake), "sql", "select 1")
    assert (code, err) == (2, f"agentwatch: error: `receiver_port` must be from 1 to 65535, got 0 in "
                              f"{config}: receiver_port\n")
    config.write_text("guard_interval = 0\n")
    code, _, err = aw("--config", str(config), "--lake", str(lake), "sql", "select 1")
    assert (code, err) == (2, f"agentwatch: error: `guard_interval` must be 1 or more, got 0 in "
                              f"{config}: guard_interval\n")


def test_receive_on_a_busy_port_says_so(aw, lake: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, out, err = aw("--lake", str(lake), "receive", "--port", port, "--grpc-port", "0")
        assert (code, out, err) == (2, "", f"agentwatch: error: cannot listen on 127.0.0.1:{port}: Address already "
                                           "in use in --port\n")
        code, out, err = aw("--lake", str(lake), "receive", "--port", port, "--grpc-port", port)
        assert code == 2 and err.startswith(f"agentwatch: error: cannot listen on 127.0.0.1:{port}: ")
        assert err.endswith(" in --grpc-port\n")
