"""gunicorn's settings for the quickstart in production; the Procfile's `web:` line loads them.

Slow clients cost no worker: gevent workers read each connection in a greenlet, so a client that
sends its request line, head or body a byte a second holds a few KB of memory, not one of the
few worker processes that answer Twilio (with gunicorn's default sync workers, two such clients
held `-w 2` for 30 s at a time). Each worker holds up to `worker_connections` connections at once.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"  # the Procfile's --bind $PORT wins
worker_class = "gevent"  # pip install gevent (quickstart/requirements.txt)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = 1000  # per worker: slow clients beyond this wait in the listen backlog
backlog = 2048
timeout = 30  # a worker that stops answering gunicorn's heartbeat is restarted
graceful_timeout = 10
keepalive = 5
limit_request_line = 4094
limit_request_field_size = 16 * 1024  # the app's MAX_HEADER_BYTES: Twilio's and one cookie
accesslog = "-"
