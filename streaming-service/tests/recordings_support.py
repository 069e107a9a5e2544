"""Recorded segments for playback tests: fMP4 files written with PyAV from simulator frames.

Files follow the recording layout (``<camera_id>/<YYYY-MM-DD>/<HH>/<start-epoch-ms>.mp4``),
one fragment per GOP, timestamps restarting at 0 in each file. A file's start time is the
burnt-in stamp of its first frame, so tests can compare what they see with what they asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from argus_camsim.stamp import read_timestamp_ms


@dataclass
class RecordedFile:
    path: str  # relative to the recordings directory
    start_ms: int
    end_ms: int

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_ms / 1000, UTC)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.end_ms / 1000, UTC)


def record_segments(
    rtsp_url: str, root: Path, camera_id: int, *, files: int = 3, seconds: float = 2.0
) -> list[RecordedFile]:
    """Pull ``rtsp_url`` and write ``files`` consecutive segment files of ~``seconds``."""
    out: list[RecordedFile] = []
    with av.open(rtsp_url, options={"rtsp_transport": "tcp", "timeout": "5000000",
                          "analyzeduration": "300000", "probesize": "32768"},
                 timeout=10) as src:
        vin = src.streams.video[0]
        decoder = av.CodecContext.create("h264", "r")
        if vin.codec_context.extradata:
            decoder.extradata = vin.codec_context.extradata
        writer = None
        current: dict[str, object] = {}
        for packet in src.demux(vin):
            if packet.pts is None or packet.size == 0:
                continue
            key = packet.is_keyframe
            if writer is None and not key:
                continue
            tb = packet.time_base
            t = float(packet.pts * tb)
            if key and writer is not None and t - float(current["t0"]) >= seconds:  # type: ignore[arg-type]
                out.append(_close(current, t, root))
                writer = None
                if len(out) == files:
                    break
            if writer is None:
                start_ms = _stamp(decoder, packet)
                if start_ms is None:
                    continue
                tmp = root / f"tmp-{len(out)}.mp4"
                writer = av.open(str(tmp), "w", format="mp4", options={
                    "movflags": "frag_keyframe+empty_moov+default_base_moof"})
                vout = writer.add_stream_from_template(vin)
                current = {"writer": writer, "stream": vout, "tmp": tmp, "t0": t,
                           "pts0": packet.pts, "start_ms": start_ms, "camera": camera_id}
            else:
                _stamp(decoder, packet)  # keep the decoder in step
            packet.pts -= current["pts0"]  # type: ignore[operator]
            packet.dts = packet.pts
            packet.stream = current["stream"]  # type: ignore[assignment]
            writer.mux(packet)
    return out


def _stamp(decoder: av.CodecContext, packet: av.Packet) -> int | None:
    for frame in decoder.decode(packet):  # type: ignore[attr-defined]
        return read_timestamp_ms(frame.to_ndarray(format="gray"), frame.width, frame.height)
    return None


def _close(current: dict[str, object], t_end: float, root: Path) -> RecordedFile:
    writer = current["writer"]
    writer.close()  # type: ignore[attr-defined]
    start_ms = int(current["start_ms"])  # type: ignore[call-overload]
    end_ms = start_ms + int((t_end - float(current["t0"])) * 1000)  # type: ignore[arg-type]
    day = datetime.fromtimestamp(start_ms / 1000, UTC)
    rel = f"{current['camera']}/{day:%Y-%m-%d}/{day:%H}/{start_ms}.mp4"
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    Path(current["tmp"]).rename(dest)  # type: ignore[arg-type]
    return RecordedFile(rel, start_ms, end_ms)
