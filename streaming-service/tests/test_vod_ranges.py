"""The one byte range a VOD file request may pass through to the object store
(``vod/tiers._byte_range``); anything else is served from the cached file."""

from __future__ import annotations

from argus_streaming.vod.tiers import MAX_RANGE_BYTES, _byte_range


def test_single_ranges_are_resolved_against_the_size() -> None:
    assert _byte_range("bytes=0-99", 1000) == (0, 99)
    assert _byte_range("bytes=900-", 1000) == (900, 999)
    assert _byte_range("bytes=-100", 1000) == (900, 999)
    assert _byte_range("bytes=990-2000", 1000) == (990, 999)  # clipped to the object


def test_anything_else_goes_to_the_file() -> None:
    for header in (
        None,
        "",
        "bytes=5-2",
        "bytes=1000-",
        "bytes=-",
        "bytes=0-1,5-9",
        "items=0-9",
        "bytes=a-b",
    ):
        assert _byte_range(header, 1000) is None, header
    assert _byte_range(f"bytes=0-{MAX_RANGE_BYTES}", 2 * MAX_RANGE_BYTES) is None
    assert _byte_range("bytes=0-0", 0) is None
