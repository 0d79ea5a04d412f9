"""The metrics tests' small generated fleet, written once per session; tests only read its files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six days of the sample fleet at a third of its size (seed 11): several days, several agents."""
    from agentwatch.sample.generate import write_sample

    out = tmp_path_factory.mktemp("fleet")
    write_sample(out, days=6, seed=11, scale=0.3, progress=None)
    return out
