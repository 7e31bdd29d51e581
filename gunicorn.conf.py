"""The shipped web server configuration: gunicorn reads this file from the working directory.

The Dockerfile, docker-compose.yml and bench/bench_runtime_http.py all run it, so what is
benchmarked is what ships. Each environment variable below overrides one value.

A turn is CPU work (the models) between two short database writes: one process per core
serves them in parallel, threads overlap a process's waiting (database, webhooks, slow
clients), and each process gives torch one thread — more busy torch threads than cores
spin-wait on one another (docs/builds.md, "Cores").
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_PROCESSES") or os.cpu_count() or 1)
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "gthread"
# A process's first turn of a build loads its models (seconds); a webhook may take up to 30 s.
timeout = int(os.environ.get("WEB_TIMEOUT") or 120)
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("WEB_ACCESS_LOG") or None


def post_fork(server, worker):  # noqa: ANN001, ARG001  (gunicorn's hook signature)
    from modeling.encoder import set_cpu_threads

    set_cpu_threads(int(os.environ.get("COLLOQUY_TORCH_THREADS") or 0) or 1)
