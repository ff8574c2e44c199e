"""Cadences under a minute have no cron form in either orchestrator, and under a second never divide by zero."""

from __future__ import annotations

import pytest

from streamc.backends.airflow.schedule import _every_as_cron
from streamc.backends.dagster.graph import duration_cadence


@pytest.mark.parametrize("seconds", [0, 0.25, 0.999, 1, 30, 59])
def test_no_cron_under_a_minute(seconds):
    assert _every_as_cron(int(seconds)) is None
    cadence = duration_cadence(seconds, f"{seconds}s")
    assert cadence.cron is None and cadence.seconds >= 1


@pytest.mark.parametrize(("seconds", "cron"), [(60, "* * * * *"), (300, "*/5 * * * *"), (3600, "0 * * * *")])
def test_cron_for_even_divisions(seconds, cron):
    assert _every_as_cron(seconds) == cron
    assert duration_cadence(seconds, "x").cron == cron
