"""The fragment index of a recorded file: lives in ``argus_common.mp4index`` (the recorder
computes it too, when it tiers a segment); re-exported here for streaming's modules."""

from argus_common.mp4index import Fragment, Mp4Error, Mp4Index, index_file

__all__ = ["Fragment", "Mp4Error", "Mp4Index", "index_file"]
