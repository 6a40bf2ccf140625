"""Read by gunicorn from the working directory (docs/ops/operations.md).

With PROMETHEUS_MULTIPROC_DIR set, prometheus_client keeps each worker's metrics in files there
and /metrics adds them up: the directory is emptied when the server starts, and a dead worker's
live gauges are dropped. No access log: the app writes one JSON line per request itself
(procuration/observability.py), without the query string.

Each worker freezes the garbage collector's view of what loading the app allocated (gc.freeze):
the full collections that requests trigger no longer walk the modules, models and settings — in
process, one every ≈ 150 requests of the mairie queue took ≈ 200 ms of one request, and nearly
nothing frozen (issue 16, docs/performance.md). A tail-latency matter: medians do not move.
"""

import gc
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


def post_worker_init(worker):
    gc.freeze()  # after the app is loaded in this worker; later objects are collected as usual
