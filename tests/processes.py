"""run.py as a real process: started with a settings file, waited for, stopped."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on (http://\S+)")


#: run.py settings for argon2id at its cheapest: a test about start-up, not hashing.
FAST_HASHES = "[accounts]\nargon2_time_cost = 1\nargon2_memory_kib = 64\n"


class AppProcess:
    """A `python run.py` child; `url` is known once it printed its listening line."""

    def __init__(
        self, workdir: Path, settings_text: str, *args: str, env: dict[str, str] | None = None
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "settings.ini").write_text(settings_text)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--port", "0", *args],
            cwd=workdir,
            env={**os.environ, "CHATAPP_COOKIE_SECRET": "s" * 48, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = ""

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_listening(self, limit: float = 20) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"run.py exited: {self.stderr()}") from None
                continue
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return self.url
        raise TimeoutError(f"run.py printed no listening line within {limit}s: {self.output}")

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read() if self.process.poll() is not None else ""

    def stop(self) -> int:
        return stop(self.process)


def stop(process: subprocess.Popen[Any]) -> int:
    """SIGTERM, then SIGKILL if it is still there 10 s later; the exit status."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=5)
