"""Per-service Redis ACL users (issue 16, finding 4 follow-up): each service's user reaches
only the keys and channels its service uses (``redis-acl/users.rules``).

A private ``redis-server`` runs with the ACL file ``make run`` generates
(``argus_testkit.redis_acl.ensure_users``). Each media service's Redis work is done here with
the services' own code (leases, the recorder heartbeat, the segments trim, the bus's streams,
groups and channels) as that service's user, and each user is refused what it must not touch:
another service's lease, the token denylist, login counters, the audit stream (streaming may
only append to it), channels it does not use. The rules file, Compose's start script and the
Kubernetes Secret must agree.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from argus_common.bus import RedisBus
from argus_common.events import (
    CHANNEL_ANALYSIS_FRAMES,
    CHANNEL_AUTHZ,
    CHANNEL_CAMERAS,
    STREAM_ANALYSIS,
    STREAM_ANALYSIS_JOBS,
    STREAM_AUDIT,
    STREAM_EVENTS,
    STREAM_SEGMENTS,
    AuthzChanged,
    CameraChanged,
    VideoAccess,
)
from argus_common.handover import Handover
from argus_common.leases import Leases
from argus_recording.announce import trim_acknowledged
from argus_recording.heartbeat import Heartbeat
from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.provision import redis_server
from argus_testkit.redis_acl import (
    USERS,
    acl_text,
    ensure_users,
    scoped_url,
    user_rules,
    user_url,
)

ROOT = Path(__file__).resolve().parents[1]
NS = "argus"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    """A redis-server with make run's ACL file for ``NS``: (port, {user: password})."""
    exe = redis_server()
    assert exe, "redis-server is needed (apt-get install redis-server)"
    tmp = tmp_path_factory.mktemp("acl-redis")
    acl, passwords = ensure_users(tmp / "users", NS)
    port = free_port()
    proc = Proc.start(
        "redis-acl",
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
            "--aclfile",
            str(acl),
        ],
        env={"PATH": os.environ["PATH"]},
        log=tmp / "redis.log",
    )
    try:
        proc.wait_ready(Ready(tcp=port, timeout_s=30))
        yield port, passwords
    finally:
        proc.stop()


@pytest.fixture
async def clients(acl_redis: tuple[int, dict[str, str]]) -> AsyncIterator[dict[str, Redis]]:
    port, passwords = acl_redis
    out = {
        name: Redis.from_url(user_url("127.0.0.1", port, name, passwords[name])) for name in USERS
    }
    yield out
    for client in out.values():
        await client.aclose()


def _bus(clients: dict[str, Redis], user: str) -> RedisBus:
    return RedisBus(clients[user], NS)


async def _deliver(
    sub: RedisBus, pub: RedisBus, channel: str, message: CameraChanged | AuthzChanged
) -> None:
    """``sub`` receives what ``pub`` publishes on ``channel`` (published until it arrives)."""

    async def first() -> str:
        async for _channel, raw in sub.subscribe(channel):
            return raw
        raise AssertionError("subscription ended")

    task = asyncio.create_task(first())
    try:
        async with asyncio.timeout(20):
            while not task.done():
                await pub.publish(channel, message)
                await asyncio.wait({task}, timeout=0.1)
        assert message.model_dump_json() == task.result()
    finally:
        task.cancel()


async def test_recording_user_does_what_the_recorder_does(clients: dict[str, Redis]) -> None:
    redis = clients["recording"]
    leases = Leases(redis, NS, "recording", "rec-1", ttl_s=10)
    assert await leases.acquire("7")
    assert await leases.renew(["7"], retake=True) == {"7"}
    assert await leases.owner("7") == leases.token
    assert await leases.heartbeat() == ["rec-1"]
    # A make-before-break handover (argus_common.handover): both sides' steps.
    giver = Handover(leases, ttl_s=10)
    taker = Handover(Leases(redis, NS, "recording", "rec-2", ttl_s=10), ttl_s=10)
    assert await giver.offer("7") and await taker.offers() == {"7"}
    assert await taker.claim("7") and await taker.ready("7")
    assert await giver.cut("7", 1000.0) and await giver.transfer("7")
    assert await leases.owner("7") == taker.token
    assert await taker.cancel("7", "to")
    await taker.leases.release("7")
    await leases.release("7")
    await leases.leave()
    beat = Heartbeat(redis, NS, "rec-1", lambda: ([7], [7]))
    await beat.beat()
    await beat.leave()
    bus = _bus(clients, "recording")
    await bus.ensure_group(STREAM_SEGMENTS, "management", start="0")
    await redis.xadd(bus.key(STREAM_SEGMENTS), {"data": "{}"})
    assert await trim_acknowledged(redis, bus.key(STREAM_SEGMENTS), keep=0) == 0
    # The events stream management writes: the recorder's group reads, claims, acks, replays.
    await _bus(clients, "management").add(
        STREAM_EVENTS, CameraChanged(camera_id=7, action="updated")
    )
    await bus.ensure_group(STREAM_EVENTS, "recording:rec-1", start="0")
    entries = await bus.read_group(STREAM_EVENTS, "recording:rec-1", "rec-1", block_ms=100)
    assert len(entries) == 1
    await bus.claim_stuck(STREAM_EVENTS, "recording:rec-1", "rec-1", min_idle_ms=0)
    await bus.ack(STREAM_EVENTS, "recording:rec-1", entries[0][0])
    assert await redis.xrange(bus.key(STREAM_EVENTS), min="0-0", max="+", count=10)
    assert await redis.xinfo_groups(bus.key(STREAM_EVENTS))
    await redis.xgroup_destroy(bus.key(STREAM_EVENTS), "recording:rec-1")
    await _deliver(
        bus,
        _bus(clients, "management"),
        CHANNEL_CAMERAS,
        CameraChanged(camera_id=7, action="updated"),
    )


async def test_analysis_user_does_what_analysis_does(clients: dict[str, Redis]) -> None:
    redis = clients["analysis"]
    leases = Leases(redis, NS, "analysis", "an-1", ttl_s=10)
    assert await leases.acquire("3")
    assert await leases.heartbeat() == ["an-1"]
    await leases.release("3")
    await leases.leave()
    bus = _bus(clients, "analysis")
    pipe = redis.pipeline(transaction=False)  # results.py: frames published, rows stored
    pipe.publish(bus.key(CHANNEL_ANALYSIS_FRAMES), "{}")
    pipe.xadd(bus.key(STREAM_ANALYSIS), {"data": "{}"}, maxlen=100_000, approximate=True)
    await pipe.execute()
    await _bus(clients, "management").add(
        STREAM_ANALYSIS_JOBS, CameraChanged(camera_id=3, action="created")
    )
    await bus.ensure_group(STREAM_ANALYSIS_JOBS, "analysis", start="0")
    entries = await bus.read_group(STREAM_ANALYSIS_JOBS, "analysis", "an-1", block_ms=100)
    assert len(entries) == 1
    await redis.xclaim(bus.key(STREAM_ANALYSIS_JOBS), "analysis", "an-1", 0, [entries[0][0]])
    await bus.claim_stuck(STREAM_ANALYSIS_JOBS, "analysis", "an-1", min_idle_ms=0)
    await bus.ack(STREAM_ANALYSIS_JOBS, "analysis", entries[0][0])
    assert await redis.ping()
    await _deliver(
        bus,
        _bus(clients, "management"),
        CHANNEL_CAMERAS,
        CameraChanged(camera_id=3, action="deleted"),
    )


async def test_streaming_user_appends_audit_and_follows_authz(clients: dict[str, Redis]) -> None:
    bus = _bus(clients, "streaming")
    access = VideoAccess(
        phase="start",
        session_id="sess-0001",
        kind="live",
        camera_id=1,
        started_at=datetime.now(UTC),
    )
    await bus.add(STREAM_AUDIT, access)
    assert await clients["streaming"].ping()
    await _deliver(
        bus, _bus(clients, "management"), CHANNEL_AUTHZ, AuthzChanged(reason="logout", user_ids=[5])
    )
    # management reads what streaming appended (its consumer group on the audit stream).
    mgmt = _bus(clients, "management")
    await mgmt.ensure_group(STREAM_AUDIT, "management", start="0")
    entries = await mgmt.read_group(STREAM_AUDIT, "management", "m-1", block_ms=100)
    assert [VideoAccess.model_validate_json(raw) for _, raw in entries][-1] == access


# Keys and channels of the namespace each media service must not touch: (user, command).
REFUSED = [
    ("analysis", ("SET", f"{NS}:recording:lease:7", "stolen")),
    ("analysis", ("DEL", f"{NS}:audit")),
    ("analysis", ("SET", f"{NS}:denylist:some-jti", "1")),
    ("analysis", ("DEL", f"{NS}:analysis:ws_sessions")),  # management's, despite the prefix
    ("analysis", ("PUBLISH", f"{NS}:alerts", "{}")),
    ("analysis", ("XADD", f"{NS}:events", "*", "data", "{}")),
    ("recording", ("SET", f"{NS}:analysis:lease:3", "stolen")),
    ("recording", ("DEL", f"{NS}:login:fail:ip:127.0.0.1")),
    ("recording", ("SET", f"{NS}:denyfam:f", "1")),
    ("recording", ("XTRIM", f"{NS}:audit", "MAXLEN", "0")),
    ("recording", ("PUBLISH", f"{NS}:authz", "{}")),
    ("recording", ("PUBLISH", f"{NS}:cameras", "{}")),  # it subscribes, never publishes
    ("streaming", ("DEL", f"{NS}:audit")),
    ("streaming", ("XTRIM", f"{NS}:audit", "MAXLEN", "0")),
    ("streaming", ("XDEL", f"{NS}:audit", "0-1")),
    ("streaming", ("XRANGE", f"{NS}:audit", "-", "+")),
    ("streaming", ("SET", f"{NS}:recording:lease:7", "stolen")),
    ("streaming", ("GET", f"{NS}:ptz:lock:1")),
    ("streaming", ("PUBLISH", f"{NS}:authz", "{}")),
    ("streaming", ("SUBSCRIBE", f"{NS}:cameras")),
]


@pytest.mark.parametrize(
    ("user", "command"), REFUSED, ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
async def test_a_service_user_is_refused_what_it_must_not_touch(
    clients: dict[str, Redis], user: str, command: tuple[str, ...]
) -> None:
    if command[0] == "SUBSCRIBE":
        pubsub = clients[user].pubsub()
        with pytest.raises(NoPermissionError):
            await pubsub.subscribe(command[1])
            await pubsub.get_message(timeout=2)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        return
    with pytest.raises(NoPermissionError):
        await clients[user].execute_command(*command)


async def test_every_user_is_refused_admin_commands(clients: dict[str, Redis]) -> None:
    for name in USERS:
        for command in (("FLUSHALL",), ("CONFIG", "GET", "*"), ("KEYS", "*"), ("ACL", "LIST")):
            with pytest.raises(NoPermissionError):
                await clients[name].execute_command(*command)


def _user_lines(text: str) -> dict[str, str]:
    """``user <name> on #<hash> <rules>`` lines: name -> rules (hash dropped)."""
    out = {}
    for line in text.splitlines():
        match = re.match(r"\s*user (\S+) on #\S+ (.*)$", line)
        if match:
            out[match[1]] = match[2].strip()
    return out


def test_compose_script_and_k8s_secret_use_the_same_rules(tmp_path: Path) -> None:
    wanted = {name: user_rules("site-a", name) for name in USERS}
    passwords = {name: f"{name}-compose-password-0123" for name in USERS}
    assert _user_lines(acl_text("site-a", passwords)) == wanted
    # The script writes the ACL file, then execs redis-server: a stand-in that only says
    # which ACL file it was given.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "redis-server").write_text('#!/bin/sh\necho "$@"\n')
    (bin_dir / "redis-server").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ARGUS_REDIS_NAMESPACE": "site-a",
        "ARGUS_REDIS_RUN_DIR": str(tmp_path / "run"),
        **{f"REDIS_PASSWORD_{n.upper()}": pw for n, pw in passwords.items()},
    }
    done = subprocess.run(
        ["sh", str(ROOT / "redis-acl" / "start-redis.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"--aclfile {tmp_path / 'run' / 'users.acl'}" in done.stdout
    acl = (tmp_path / "run" / "users.acl").read_text()
    assert _user_lines(acl) == wanted
    digest = hashlib.sha256(passwords["streaming"].encode()).hexdigest()
    assert f"user streaming on #{digest} " in acl
    docs = list(yaml.safe_load_all((ROOT / "deploy/k8s/base/secrets.yaml").read_text()))
    secret = next(d for d in docs if d and d["metadata"]["name"] == "argus-redis-acl")
    assert _user_lines(secret["stringData"]["users.acl"]) == {
        name: user_rules("argus", name) for name in USERS
    }


def test_test_stacks_can_run_each_service_as_its_user() -> None:
    """``ARGUS_TEST_REDIS_ACL=1``: argus_testkit.stack.start gives each service a user with
    its rules on the session's Redis (scoped_url); the rules hold there too."""
    import redis as sync_redis

    from argus_testkit.stack import REDIS_URL, redis_namespace

    with redis_namespace() as namespace:
        url = scoped_url(REDIS_URL, namespace, "streaming")
        client = sync_redis.Redis.from_url(url)
        try:
            assert client.xadd(f"{namespace}:audit", {"data": "{}"})
            with pytest.raises(NoPermissionError):
                client.delete(f"{namespace}:audit")
            with pytest.raises(NoPermissionError):
                client.xadd(f"{NS}:audit", {"data": "{}"})  # another namespace
        finally:
            client.close()
