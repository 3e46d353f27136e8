"""Show an HTTP exchange the way it crossed the wire, like `curl -v`: > request, < response."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

# Headers that say nothing about cookies or sessions; left out to keep the picture small.
QUIET = {
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "date",
    "server",
    "user-agent",
    "vary",
}

HTTP_VERSIONS = {10: "HTTP/1.0", 11: "HTTP/1.1"}


def exchange_lines(response: requests.Response, body_limit: int = 300) -> list[str]:
    """The request and response of a `requests` call as lines, quiet headers left out."""
    request = response.request
    lines = [
        f"> {request.method} {request.path_url} HTTP/1.1",
        f"> Host: {urlsplit(request.url).netloc}",
    ]
    lines += [f"> {k}: {v}" for k, v in request.headers.items() if k.lower() not in QUIET]
    if request.body:
        sent = request.body.decode() if isinstance(request.body, bytes) else request.body
        lines += [">", f"> {sent[:body_limit]}"]
    version = HTTP_VERSIONS.get(response.raw.version, "HTTP/1.1")
    lines += ["", f"< {version} {response.status_code} {response.reason}"]
    lines += [f"< {k}: {v}" for k, v in response.raw.headers.items() if k.lower() not in QUIET]
    text = response.text.strip()
    if text:
        shown = text if len(text) <= body_limit else text[:body_limit] + " …"
        lines += ["<"] + [f"< {line}" for line in shown.splitlines()]
    return lines


def show_exchange(response: requests.Response) -> None:
    """Print a `requests` call as it crossed the wire (headers about cookies kept)."""
    print("\n".join(exchange_lines(response)))
