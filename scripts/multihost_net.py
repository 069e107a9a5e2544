"""The multi-host bed's network (scripts/multihost.py): network namespaces joined by veth
pairs to one bridge, a small LAN on 10.77.0.0/24. The bridge (``GATEWAY``) stays in the root
namespace: where the script or a test watches from. Made by iproute2 commands, each bounded;
:meth:`Net.down` removes whatever :meth:`Net.up` made, also after a partial set-up."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field

NET = "10.77.0"
GATEWAY = f"{NET}.254"
HOSTS = {"h1": f"{NET}.1", "h2": f"{NET}.2", "h3": f"{NET}.3"}
CAMS = ("cams", f"{NET}.10")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """One iproute2 command (bounded)."""
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done


@dataclass
class Net:
    """The namespaces, veth pairs and bridge of one bed; names carry a per-run tag."""

    tag: str = field(default_factory=lambda: f"amh{uuid.uuid4().hex[:5]}")
    made_ns: list[str] = field(default_factory=list)
    made_links: list[str] = field(default_factory=list)

    def ns(self, short: str) -> str:
        return f"{self.tag}-{short}"

    @property
    def bridge(self) -> str:
        return f"{self.tag}br"

    def up(self) -> Net:
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        self.made_links.append(self.bridge)
        sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for short, addr in (*HOSTS.items(), CAMS):
            self.add_host(short, addr)
        return self

    def add_host(self, short: str, addr: str) -> None:
        ns, outer = self.ns(short), f"{self.tag}{short}"
        sh("ip", "netns", "add", ns)
        self.made_ns.append(ns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self.made_links.append(outer)
        sh("ip", "link", "set", outer, "master", self.bridge)
        sh("ip", "link", "set", outer, "up")
        inside = ("ip", "netns", "exec", ns, "ip")
        sh(*inside, "link", "set", "lo", "up")
        sh(*inside, "addr", "add", f"{addr}/24", "dev", "eth0")
        sh(*inside, "link", "set", "eth0", "up")

    def link(self, short: str, up: bool) -> None:
        """Cut (or restore) host ``short``'s only link, from inside its namespace."""
        sh(
            "ip",
            "netns",
            "exec",
            self.ns(short),
            "ip",
            "link",
            "set",
            "eth0",
            "up" if up else "down",
        )

    def down(self) -> None:
        for ns in reversed(self.made_ns):
            sh("ip", "netns", "del", ns, check=False)  # its eth0 (and the peer) go with it
        for link in reversed(self.made_links):
            if sh("ip", "link", "show", link, check=False).returncode == 0:
                sh("ip", "link", "del", link, check=False)
        self.made_ns.clear()
        self.made_links.clear()

