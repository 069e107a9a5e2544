"""ONVIF Profile G on the simulator: Recording Search (tse) and Replay (trp).

A camera with edge storage (``CameraInfo.edge``) holds one recording, ``<camN>-edge``,
with one video track. Search: ``GetRecordingSummary``, ``FindRecordings`` (a search
token), ``GetRecordingSearchResults`` (the recording, its earliest and latest data and
the stretches actually held as ``tse:`` extension ``DataRange`` elements, clipped to the
search's time range), ``EndSearch``, ``GetServiceCapabilities``. Replay: ``GetReplayUri``
(``rtsp://…/camN/replay``, see ``argus_camsim.edge.replay``) and
``GetServiceCapabilities``. A camera without edge storage answers ActionNotSupported, as
one without Profile G does.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from argus_camsim.edge.store import EdgeStore
from argus_camsim.onvif.context import Handler, RequestContext
from argus_camsim.onvif.soap import (
    action_not_supported,
    child,
    child_text,
    invalid_arg,
    text,
)

NS_TSE = "http://www.onvif.org/ver10/search/wsdl"
NS_TRP = "http://www.onvif.org/ver10/replay/wsdl"
SEARCH_PATH = "/onvif/search_service"
REPLAY_PATH = "/onvif/replay_service"
MAX_SEARCHES = 16
_SEARCH_TTL_S = 60.0
_searches: dict[str, tuple[float, int | None, int | None]] = {}  # token -> (expiry, from, to)
_tokens = itertools.count(1)


def store_of(ctx: RequestContext) -> EdgeStore:
    """The camera's edge recording; ActionNotSupported without one."""
    store = getattr(ctx.camera, "edge", None)
    if not isinstance(store, EdgeStore):
        raise action_not_supported("This camera has no recording (no edge storage)")
    return store


def recording_token(ctx: RequestContext) -> str:
    return f"{ctx.camera.path}-edge"


def iso(ms: int) -> str:
    """xs:dateTime with milliseconds, UTC."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_time(raw: str | None) -> int | None:
    """An xs:dateTime as epoch milliseconds (None when absent)."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_arg(f"{raw!r} is not an xs:dateTime") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def search_service_capabilities(ctx: RequestContext, op: Element) -> str:
    return (
        f'<tse:GetServiceCapabilitiesResponse xmlns:tse="{NS_TSE}">'
        '<tse:Capabilities MetadataSearch="false" GeneralStartEvents="false"/>'
        "</tse:GetServiceCapabilitiesResponse>"
    )


def get_recording_summary(ctx: RequestContext, op: Element) -> str:
    """Earliest and latest data of every recording, and how many there are."""
    store = store_of(ctx)
    first, last = store.earliest_ms, store.latest_ms
    now = round(time.time() * 1000)
    return (
        f'<tse:GetRecordingSummaryResponse xmlns:tse="{NS_TSE}"><tse:Summary>'
        f"<tt:DataFrom>{iso(first if first is not None else now)}</tt:DataFrom>"
        f"<tt:DataUntil>{iso(last if last is not None else now)}</tt:DataUntil>"
        f"<tt:NumberRecordings>{1 if first is not None else 0}</tt:NumberRecordings>"
        "</tse:Summary></tse:GetRecordingSummaryResponse>"
    )


def find_recordings(ctx: RequestContext, op: Element) -> str:
    """Start a search; ``tse:Scope/tt:EarliestTime`` / ``LatestTime`` (an extension many
    NVRs send as the search window) narrow the ``DataRange`` answered."""
    store_of(ctx)
    now = time.monotonic()
    for token in [t for t, (expiry, _a, _b) in _searches.items() if expiry < now]:
        del _searches[token]
    if len(_searches) >= MAX_SEARCHES:
        raise invalid_arg("Too many searches", "ter:ResourceProblem")
    scope = child(op, "Scope")
    lo = parse_time(child_text(scope, "EarliestTime"))
    hi = parse_time(child_text(scope, "LatestTime"))
    token = f"search-{next(_tokens)}"
    _searches[token] = (now + _SEARCH_TTL_S, lo, hi)
    return (
        f'<tse:FindRecordingsResponse xmlns:tse="{NS_TSE}">'
        f"<tse:SearchToken>{token}</tse:SearchToken></tse:FindRecordingsResponse>"
    )


def get_recording_search_results(ctx: RequestContext, op: Element) -> str:
    """The camera's recording (once: the search is then Completed)."""
    store = store_of(ctx)
    token = child_text(op, "SearchToken") or ""
    found = _searches.pop(token, None)
    if found is None:
        raise invalid_arg(f"Unknown search token {token!r}", "ter:InvalidToken")
    _expiry, lo, hi = found
    first, last = store.earliest_ms, store.latest_ms
    info = ""
    if first is not None and last is not None:
        ranges = "".join(
            f"<tse:DataRange><tt:From>{iso(max(a, lo or a))}</tt:From>"
            f"<tt:Until>{iso(min(b, hi or b))}</tt:Until></tse:DataRange>"
            for a, b in store.spans()
            if (hi is None or a < hi) and (lo is None or b > lo)
        )
        info = (
            "<tt:RecordingInformation>"
            f"<tt:RecordingToken>{text(recording_token(ctx))}</tt:RecordingToken>"
            f"<tt:Source><tt:SourceId>{text(ctx.camera.path)}</tt:SourceId>"
            f"<tt:Name>{text(ctx.camera.name)}</tt:Name><tt:Location/>"
            "<tt:Description>edge storage</tt:Description><tt:Address/></tt:Source>"
            f"<tt:EarliestRecording>{iso(first)}</tt:EarliestRecording>"
            f"<tt:LatestRecording>{iso(last)}</tt:LatestRecording>"
            "<tt:Content>continuous</tt:Content>"
            "<tt:Track><tt:TrackToken>video</tt:TrackToken><tt:TrackType>Video</tt:TrackType>"
            f"<tt:Description>main stream</tt:Description><tt:DataFrom>{iso(first)}</tt:DataFrom>"
            f"<tt:DataTo>{iso(last)}</tt:DataTo></tt:Track>"
            "<tt:RecordingStatus>Recording</tt:RecordingStatus>"
            f"{ranges}</tt:RecordingInformation>"
        )
    return (
        f'<tse:GetRecordingSearchResultsResponse xmlns:tse="{NS_TSE}"><tse:ResultList>'
        f"<tt:SearchState>Completed</tt:SearchState>{info}"
        "</tse:ResultList></tse:GetRecordingSearchResultsResponse>"
    )


def end_search(ctx: RequestContext, op: Element) -> str:
    _searches.pop(child_text(op, "SearchToken") or "", None)
    return (
        f'<tse:EndSearchResponse xmlns:tse="{NS_TSE}">'
        f"<tse:Endpoint>{iso(round(time.time() * 1000))}</tse:Endpoint>"
        "</tse:EndSearchResponse>"
    )


def replay_service_capabilities(ctx: RequestContext, op: Element) -> str:
    return (
        f'<trp:GetServiceCapabilitiesResponse xmlns:trp="{NS_TRP}">'
        '<trp:Capabilities ReversePlayback="false" RTP_RTSP_TCP="true" '
        'SessionTimeoutRange="10 600"/></trp:GetServiceCapabilitiesResponse>'
    )


def get_replay_uri(ctx: RequestContext, op: Element) -> str:
    """The RTSP URI that replays the recording (TCP interleaved only)."""
    store_of(ctx)
    token = child_text(op, "RecordingToken")
    if token != recording_token(ctx):
        raise invalid_arg(f"Unknown recording {token!r}", "ter:NoRecording")
    return (
        f'<trp:GetReplayUriResponse xmlns:trp="{NS_TRP}">'
        f"<trp:Uri>{text(ctx.stream_uri('replay'))}</trp:Uri></trp:GetReplayUriResponse>"
    )


SEARCH_OPERATIONS: dict[str, Handler] = {
    "GetServiceCapabilities": search_service_capabilities,
    "GetRecordingSummary": get_recording_summary,
    "FindRecordings": find_recordings,
    "GetRecordingSearchResults": get_recording_search_results,
    "EndSearch": end_search,
}
REPLAY_OPERATIONS: dict[str, Handler] = {
    "GetServiceCapabilities": replay_service_capabilities,
    "GetReplayUri": get_replay_uri,
}


def profile_g_services(ctx: RequestContext) -> list[tuple[str, str]]:
    """``(namespace, path)`` of the Profile G services this camera offers (GetServices)."""
    if not isinstance(getattr(ctx.camera, "edge", None), EdgeStore):
        return []
    return [(NS_TSE, SEARCH_PATH), (NS_TRP, REPLAY_PATH)]
