"""Edge storage of a virtual camera (its "SD card") and ONVIF Profile G replay.

``store.EdgeStore`` keeps the last N minutes of the main stream whatever happens to the
network (the ``network_down`` fault cuts RTSP and ONVIF, not the encoder); ``replay``
serves it over RTSP with ONVIF's replay extensions (``Require: onvif-replay``,
``Range: clock=…``, ``Scale``, ``Rate-Control``, the 0xABAC RTP header extension); the
search and replay SOAP operations live in ``argus_camsim.onvif.recording``.
"""

from argus_camsim.edge.store import EdgeFrame, EdgeStore

__all__ = ["EdgeFrame", "EdgeStore"]
