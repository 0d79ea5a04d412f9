"""Schedules, declared at the edge: the nightly flow on a cron (02:00 local time by default) and the
guard flow every `guard_interval` seconds, both served through Prefect's own scheduling.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import prefect
import tzlocal
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule
from prefect.settings import PREFECT_API_URL, temporary_settings

from agentwatch.errors import ConfigError
from agentwatch.flows.guard import guard_flow
from agentwatch.flows.nightly import nightly_flow

# A guard run that would start while the previous one still runs is cancelled: the running one
# already takes everything new, and guard runs must never pile up behind a long nightly run.
ONE_GUARD_AT_A_TIME = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def nightly_schedule(settings: Mapping[str, Any]) -> Schedule:
    """The nightly cron in its time zone (the setting, else this machine's local zone)."""
    zone = settings.get("schedule_timezone") or tzlocal.get_localzone_name()
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {zone!r}", "schedule_timezone") from exc
    try:
        return Cron(str(settings["nightly_cron"]), timezone=zone)
    except ValueError as exc:
        raise ConfigError(f"invalid cron {settings['nightly_cron']!r}: {exc}", "nightly_cron") from exc


def guard_schedule(settings: Mapping[str, Any]) -> Schedule:
    """Every `guard_interval` seconds (at least 10: a guard run needs a few seconds itself)."""
    seconds = settings["guard_interval"]
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 10:
        raise ConfigError(f"`guard_interval` must be a whole number of seconds >= 10, got {seconds!r}",
                          "guard_interval")
    return Interval(timedelta(seconds=seconds))


def build_deployments(settings: Mapping[str, Any]) -> list[RunnerDeployment]:
    """Both flows as deployments with their schedules; the resolved settings are their parameters."""
    params = {"settings": dict(settings)}
    nightly = nightly_flow.to_deployment(
        name="nightly", schedules=[nightly_schedule(settings)], parameters=params,
        entrypoint_type=EntrypointType.MODULE_PATH, concurrency_limit=1,
        description="The whole pipeline over everything new under the sources and the spool.",
    )
    guard = guard_flow.to_deployment(
        name="guard", schedules=[guard_schedule(settings)], parameters=params,
        entrypoint_type=EntrypointType.MODULE_PATH, concurrency_limit=ONE_GUARD_AT_A_TIME,
        description="New events only, through the stages on the way to an escalation.",
    )
    return [nightly, guard]


def serve_flows(settings: Mapping[str, Any], api_url: str) -> None:
    """Serve both deployments against `api_url` until interrupted (the runner polls it for due runs)."""
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        prefect.serve(*build_deployments(settings), print_starting_message=False)
