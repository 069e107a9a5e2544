"""Control API commands for the ONVIF side: raise device events, set a camera's quirks.

POST /events/camN  {"topic": "motion"|"tamper"|"input", "state": bool, "input": "1"}
POST /quirks/camN  {"quirks": ["slow", "bad_presets", ...]}   ([] = a polite camera)
"""

from __future__ import annotations

from typing import Any

from argus_camsim.camera import CameraRuntime
from argus_camsim.device_events import TOPICS
from argus_camsim.faults import CommandError

_MAX_TOKEN = 64


def apply_events(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Raise one event on every PullPoint subscription of the camera."""
    unknown = set(payload) - {"topic", "state", "input"}
    topic, state = payload.get("topic"), payload.get("state")
    if unknown or topic not in TOPICS or not isinstance(state, bool):
        raise CommandError(
            f'body must be {{"topic": one of {", ".join(TOPICS)}, "state": true|false}} '
            '(and "input" for an input token)'
        )
    from argus_camsim.onvif.media import VIDEO_SOURCE_CONFIG_TOKEN  # ONVIF is optional

    source = payload.get("input", "1") if topic == "input" else VIDEO_SOURCE_CONFIG_TOKEN
    if not isinstance(source, str) or not 0 < len(source) <= _MAX_TOKEN:
        raise CommandError("input must be a short token")
    event = cam.info.events.raise_event(topic, state, source)
    return {
        "topic": topic,
        "state": state,
        "source": source,
        "utc": event.utc.isoformat(),
        "subscriptions": cam.info.events.subscriptions,
    }


def apply_quirks(cam: CameraRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Replace the camera's quirks."""
    from argus_camsim.onvif import quirks  # the ONVIF side is optional

    names = payload.get("quirks")
    if (
        set(payload) != {"quirks"}
        or not isinstance(names, list)
        or not all(isinstance(n, str) for n in names)
    ):
        raise CommandError('body must be {"quirks": [names]}')
    try:
        cam.info.quirks = quirks.check(names)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return {"quirks": sorted(cam.info.quirks)}


def parse_quirk_flag(text: str) -> tuple[str, str]:
    """``--quirk cam2:slow`` -> ("cam2", "slow")."""
    cam, sep, name = text.partition(":")
    if not sep or not cam.startswith("cam") or not name:
        raise CommandError(f"--quirk must look like cam2:slow, got {text!r}")
    return cam, name
