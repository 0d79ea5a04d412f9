"""Where the tests find the repository, its committed sample fleet and the test fixtures, from any folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "data" / "sample"
