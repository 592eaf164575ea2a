"""Render deploy/nginx/chatapp.conf.template into nginx's site file for N processes.

    python deploy/render_nginx.py --backend 127.0.0.1:8001 --backend 127.0.0.1:8002 \
        --server-name chat.example.org \
        --certificate /etc/letsencrypt/live/chat.example.org/fullchain.pem \
        --certificate-key /etc/letsencrypt/live/chat.example.org/privkey.pem \
        > /etc/nginx/sites-available/chatapp

Standard library only, so it runs before any set-up; the tests render with it too.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "chatapp.conf.template"


def render(
    backends: list[str],
    *,
    server_name: str,
    certificate: str,
    certificate_key: str,
    https_listen: str = "443",
    http_listen: str = "80",
) -> str:
    """The site file: `backends` are the processes' host:port, in any order."""
    https_port = https_listen.rsplit(":", 1)[-1]
    # A process that refuses a connection is skipped for 2 s (its clients go to the
    # next one on the hash ring), then tried again: a restart costs no one a request.
    servers = [f"    server {backend} max_fails=1 fail_timeout=2s;" for backend in backends]
    values = {
        "servers": "\n".join(servers),
        "server_name": server_name,
        "certificate": certificate,
        "certificate_key": certificate_key,
        "https_listen": https_listen,
        "http_listen": http_listen,
        "https_port_suffix": "" if https_port == "443" else f":{https_port}",
    }
    # @name@, not $name: nginx's own variables are $name.
    return re.sub(r"@(\w+)@", lambda match: values[match.group(1)], TEMPLATE.read_text())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", action="append", required=True, help="HOST:PORT of a process")
    parser.add_argument("--server-name", required=True)
    parser.add_argument("--certificate", required=True)
    parser.add_argument("--certificate-key", required=True)
    parser.add_argument("--https-listen", default="443")
    parser.add_argument("--http-listen", default="80")
    args = parser.parse_args(argv)
    sys.stdout.write(
        render(
            args.backend,
            server_name=args.server_name,
            certificate=args.certificate,
            certificate_key=args.certificate_key,
            https_listen=args.https_listen,
            http_listen=args.http_listen,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
