"""Edge recording backfill (ANR): filling an outage from the camera's own storage.

When a camera's network drops, the live recording has a gap from the end of the last live
segment before it to the start of the first one after it. If the camera has ONVIF
Profile G (its GetServices lists Recording Search and Replay), the recorder fetches exactly
that range over RTSP replay once the camera answers again, and writes it as ordinary
segments (``kind`` tag ``backfill``, announced with ``backfilled: true``):

- ``planner.py`` finds the gaps: it follows every segment this recorder announces (live,
  adopted, backfilled) and notices a live segment that starts after a hole;
- ``jobs.py`` persists the pending ranges per camera (``RECORDINGS_DIR/.argus/backfill/``),
  so a backfill survives a restart and resumes where it stopped (another outage, kill -9);
- ``onvif.py`` asks the camera for its services, recordings and replay URI;
- ``replay.py`` reads the replay stream (``Require: onvif-replay``, ``Range: clock=``,
  ``Scale``, ``Rate-Control: no``; each frame's capture time from the 0xABAC extension)
  under a bandwidth cap (a share of the camera's link);
- ``segments.py`` keeps exactly the missing frames and writes them with the live path's
  ``FragmentWriter`` at their true times; ``bridge.py`` re-encodes the frames between the
  gap's start and the first keyframe in it (the leading edge) into a short segment of
  their own.

Cameras without Profile G keep the gap (with its cause) as before.
"""
