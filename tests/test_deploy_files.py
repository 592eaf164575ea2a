"""deploy/'s systemd unit as systemd reads it (the nginx site is proven by test_deploy)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.processes import ROOT

UNIT = ROOT / "deploy" / "systemd" / "chatapp@.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_the_unit_template_is_valid_for_a_port(tmp_path: Path) -> None:
    """systemd's own check, on the unit as installed for port 8001, with this checkout as
    /opt/chatapp (so that ExecStart names an executable that exists)."""
    unit = tmp_path / "chatapp@.service"
    unit.write_text(UNIT.read_text().replace("/opt/chatapp", str(ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "chatapp@8001.service")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    text = UNIT.read_text()
    for line in ("Restart=on-failure", "KillSignal=SIGTERM", "--port %i", "NoNewPrivileges=true"):
        assert line in text
