"""A small HTTP client for tests that keeps cookies like a browser and sends the XSRF header."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class Browser:
    def __init__(self, base_url: str, *, validate_cert: bool = True) -> None:
        self.base_url = base_url
        self.validate_cert = validate_cert  # False: a test deployment's self-signed one
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []
        self._http = AsyncHTTPClient(force_instance=True)

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        xsrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> HTTPResponse:
        headers = dict(headers or {})
        if method in STATE_CHANGING and xsrf:
            if "_xsrf" not in self.cookies:
                await self.request("GET", "/api/session")
            headers["X-XSRFToken"] = self.cookies["_xsrf"]
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        payload = None
        if body is not None:
            payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = "application/json"
        elif method in {"POST", "PUT", "PATCH"}:
            payload = b""
        response = await self._http.fetch(
            self.base_url + path,
            method=method,
            body=payload,
            headers=headers,
            raise_error=False,
            request_timeout=15,
            follow_redirects=False,
            validate_cert=self.validate_cert,
        )
        self._remember(response)
        return response

    def _remember(self, response: HTTPResponse) -> None:
        for header in response.headers.get_list("Set-Cookie"):
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                expires = morsel["expires"] and parsedate_to_datetime(morsel["expires"])
                if morsel["max-age"] == "0" or (expires and expires < datetime.now(UTC)):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def close(self) -> None:
        self._http.close()


def body(response: HTTPResponse) -> Any:
    return json.loads(response.body) if response.body else None
