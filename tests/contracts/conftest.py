"""Fixtures of the seed contract tests: one stack for the whole package (seedstack.py),
each service started by the first test that needs it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from seedstack import SeedStack, seed_stack


@pytest.fixture(scope="package")
def stack() -> Iterator[SeedStack]:
    with seed_stack() as built:
        yield built


@pytest.fixture(scope="package")
def management(stack: SeedStack) -> SeedStack:
    """management (scratch PostgreSQL, signup on)."""
    stack.start_management()
    return stack


@pytest.fixture(scope="package")
def streaming(stack: SeedStack) -> SeedStack:
    """management, the simulator's camera and streaming."""
    stack.start_streaming()
    return stack


@pytest.fixture(scope="package")
def analysis(stack: SeedStack) -> SeedStack:
    """management, the simulator's camera (analysis on) and the analyser."""
    stack.start_analysis()
    return stack
