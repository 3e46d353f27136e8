"""A stand-in for ngrok's edge: a WSGI reverse proxy that forwards to a local upstream.

Like ngrok, it receives the request for the public https URL and passes it on over plain HTTP,
telling the upstream where it came from in X-Forwarded-Proto (https), X-Forwarded-Host (the
public host) and X-Forwarded-For. With forwarded=False it passes the request on without them,
as a misconfigured proxy would.
"""

from __future__ import annotations

import urllib3

# hop-by-hop headers, and Host (the upstream gets its own; the public one goes in X-Forwarded-Host)
NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
}


def edge_app(upstream: str, forwarded: bool = True):
    """A WSGI app that forwards every request to upstream (http://127.0.0.1:PORT)."""
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=15))
    upstream = upstream.rstrip("/")

    def app(environ, start_response):
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in NOT_FORWARDED
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        if forwarded:
            headers["X-Forwarded-Proto"] = "https"
            headers["X-Forwarded-Host"] = environ.get("HTTP_HOST", "")
            headers["X-Forwarded-For"] = environ.get("REMOTE_ADDR", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        query = environ.get("QUERY_STRING")
        path = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
        answer = pool.request(
            environ["REQUEST_METHOD"], upstream + path, body=body, headers=headers, redirect=False
        )
        passed = [
            (name, value)
            for name, value in answer.headers.iteritems()
            if name.lower() not in NOT_FORWARDED | {"content-length"}
        ]
        passed.append(("Content-Length", str(len(answer.data))))
        start_response(f"{answer.status} {answer.reason}", passed)
        return [answer.data]

    return app
