"""ARGUS test kit and native stack.

- :mod:`argus_testkit.ports` — free ports, open-port checks.
- :mod:`argus_testkit.wait` — bounded polling.
- :mod:`argus_testkit.process` — one process launcher: a log file per process, readiness by
  HTTP URL, TCP port or output line, cleanup of the process group by PID (SIGTERM, then
  SIGKILL, bounded).
- :mod:`argus_testkit.services` — the declarative service table (argv, env, readiness,
  restart policy) used by ``make run``, the e2e stack and the benchmarks.
- :mod:`argus_testkit.supervisor` — the ``make run`` supervisor (restarts with backoff,
  idempotent shutdown, per-service logs, a status file).
- :mod:`argus_testkit.stack` — scratch PostgreSQL databases, Redis namespaces, secrets and
  builders that start the services of the table for a test or a benchmark.
- :mod:`argus_testkit.factories` — admin/user/camera factories over HTTP.
"""
