"""Read by gunicorn from the working directory (docs/ops/operations.md).

With PROMETHEUS_MULTIPROC_DIR set, prometheus_client keeps each worker's metrics in files there
and /metrics adds them up: the directory is emptied when the server starts, and a dead worker's
live gauges are dropped. No access log: the app writes one JSON line per request itself
(procuration/observability.py), without the query string.
"""

import os
import shutil

accesslog = None


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
