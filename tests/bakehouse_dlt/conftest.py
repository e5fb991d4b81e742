"""dlt in tests: no telemetry sent, and every pipeline's state under the test's folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_dlt_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    # dlt reports anonymous usage over the network by default; tests stay on this machine.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
