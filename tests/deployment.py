"""A deployment as docs/DEPLOY.md describes it, on loopback: nginx with TLS in front of
run.py processes that share a Redis (sessions, message queue) and a SQLite file.

nginx is Debian's, in the foreground, serving the site file that
deploy/render_nginx.py renders (the one a deployment installs) inside a
minimal main configuration of its own; the certificate is a fresh
self-signed one. The processes listen on fixed ports, so that one can be
restarted where nginx expects it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

from deploy.render_nginx import render
from tests.processes import AppProcess, stop
from tests.servers import free_port, wait_for_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(certificate),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


class Nginx:
    """nginx serving the rendered site for `backends` on free loopback ports."""

    def __init__(self, directory: Path, backends: list[str]) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is not installed: `make test` installs it")
        directory.mkdir(parents=True, exist_ok=True)
        self.https_port, http_port = free_port(), free_port()
        certificate, key = self_signed_certificate(directory)
        site = render(
            backends,
            server_name="127.0.0.1",
            certificate=str(certificate),
            certificate_key=str(key),
            https_listen=f"127.0.0.1:{self.https_port}",
            http_listen=f"127.0.0.1:{http_port}",
        )
        (directory / "site.conf").write_text(site)
        temp_paths = "\n".join(
            f"    {kind}_temp_path {directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (directory / "nginx.conf").write_text(
            f"""
{"user root;" if os.getuid() == 0 else ""}
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp_paths}
    include {directory / "site.conf"};
}}
"""
        )
        self.directory = directory
        self.process = subprocess.Popen(
            [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        wait_for_port(self.https_port, process=self.process)
        self.url = f"https://127.0.0.1:{self.https_port}"

    def errors(self) -> str:
        log = self.directory / "error.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        stop(self.process)


class Processes:
    """chatapp processes on fixed ports, as systemd's chatapp@PORT units run them."""

    def __init__(self, directory: Path, redis_url: str, count: int = 2) -> None:
        self.directory = directory
        self.ports = [free_port() for _ in range(count)]
        prefix = f"t{uuid.uuid4().hex[:12]}:"
        self.settings = f"""
[server]
behind_proxy = true
secure_cookies = true
[session]
store = redis
[redis]
url = {redis_url}
prefix = {prefix}
[socketio]
message_queue = {redis_url}
[database]
url = sqlite:///{directory / "chatapp.sqlite3"}
[accounts]
argon2_time_cost = 1
argon2_memory_kib = 64
"""
        self.running: list[AppProcess] = []
        for index in range(count):
            self.running.append(self._start(index))
        for process in self.running:
            process.wait_listening()

    @property
    def backends(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.ports]

    def _start(self, index: int) -> AppProcess:
        workdir = self.directory / f"process{index}"
        return AppProcess(workdir, self.settings, "--port", str(self.ports[index]))

    def restart(self, index: int) -> None:
        """SIGTERM (a graceful stop, as systemd's), then start again on the same port."""
        assert self.running[index].stop() == 0, self.running[index].output[-20:]
        self.running[index] = self._start(index)
        self.running[index].wait_listening()

    def which_logged(self, text: str) -> int:
        """The index of the process whose log has `text` (a request's unique query)."""
        found = [i for i, p in enumerate(self.running) if text in "".join(p.output)]
        assert len(found) == 1, (text, found)
        return found[0]

    def stop(self) -> None:
        for process in self.running:
            process.stop()
