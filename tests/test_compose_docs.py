"""Every variable Compose refuses to start without (``${VAR:?...}``) is named in the README's
Docker Compose section and in ``.env.example``. The test-only overrides
(``docker-compose.standins*.yml``, never used to run ARGUS) are left out: the check scripts
that use them set their variables themselves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?")


def compose_files() -> list[Path]:
    """The Compose files a user runs: at the root and any under docs/."""
    found = {*ROOT.glob("docker-compose*.y*ml"), *ROOT.glob("docs/**/*compose*.y*ml")}
    return sorted(p for p in found if not p.name.startswith("docker-compose.standins"))


def required_variables() -> dict[str, list[str]]:
    """``VAR -> [files that require it]``."""
    found: dict[str, list[str]] = {}
    for path in compose_files():
        for name in REQUIRED.findall(path.read_text()):
            found.setdefault(name, []).append(path.name)
    return found


def readme_compose_section() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Docker Compose\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no '## Docker Compose' section"
    return match.group(1)


def test_the_compose_files_require_secrets() -> None:
    assert compose_files()
    assert {"SECRET_KEY", "POSTGRES_PASSWORD"} <= set(required_variables())


def test_every_required_variable_is_named_in_the_readme_and_env_example() -> None:
    section = readme_compose_section()
    example = (ROOT / ".env.example").read_text()
    missing = []
    for name, files in sorted(required_variables().items()):
        if not re.search(rf"\b{name}\b", section):
            missing.append(f"{name} ({', '.join(files)}) not in README.md's Docker Compose section")
        if not re.search(rf"^#?\s*{name}=", example, re.MULTILINE):
            missing.append(f"{name} ({', '.join(files)}) has no line in .env.example")
    assert not missing, "\n".join(missing)
