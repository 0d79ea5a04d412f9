"""Prefect's task runner for the nightly flow, chosen by the `task_runner` setting.

`thread` keeps every task in the flow's process (Prefect's default). `dask` starts a local Dask
cluster of `dask_workers` processes bound to 127.0.0.1 for the run; any other value is the address of
an existing Dask scheduler. Under Dask, ingest decodes the files of a batch on the workers in
parallel and commits the batch from the flow's process, and metrics build their rounds of whole
agents on the workers and commit them from the flow's process (the lake keeps one writer).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from agentwatch.errors import ConfigError

THREAD, DASK = "thread", "dask"
ADDRESS_SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://")


def parse_task_runner(value: Any) -> str:
    """`thread`, `dask`, or a scheduler address; anything else is a ConfigError naming the setting."""
    text = str(value or THREAD).strip()
    if text in (THREAD, DASK) or text.startswith(ADDRESS_SCHEMES):
        return text
    raise ConfigError(f"`task_runner` must be `thread`, `dask` or a Dask scheduler address (tcp://host:port), "
                      f"got {value!r}", "task_runner")


def local_cluster_options(workers: Any) -> dict[str, Any]:
    """A LocalCluster of worker processes (one thread each: decoding holds the GIL) on 127.0.0.1 only."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"`dask_workers` must be a whole number >= 1, got {workers!r}", "dask_workers")
    return {"n_workers": workers, "threads_per_worker": 1, "processes": True, "host": "127.0.0.1",
            "dashboard_address": "127.0.0.1:0"}  # the scheduler's HTTP routes always start: loopback, any port


@contextmanager
def open_task_runner(settings: Mapping[str, Any]) -> Iterator[Any]:
    """The started Dask task runner for this run, or None for the thread runner."""
    choice = parse_task_runner(settings.get("task_runner"))
    if choice == THREAD:
        yield None
        return
    from prefect_dask import DaskTaskRunner

    if choice == DASK:
        runner = DaskTaskRunner(cluster_class="distributed.LocalCluster",
                                cluster_kwargs=local_cluster_options(settings.get("dask_workers", 2)))
    else:
        runner = DaskTaskRunner(address=choice)
    with runner:
        yield runner
