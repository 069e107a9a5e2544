"""ONVIF cameras: the device wrapper, WS-Discovery, probing and registration from a probe."""

import logging

# onvif-zeep-async calls ``logging.basicConfig(level=INFO)`` when it is imported, which would
# print plain-text INFO lines on stderr before our JSON logging is set up (migrations at
# start). basicConfig does nothing when the root logger has a handler, so give it one while
# the library is imported.
_root = logging.getLogger()
_guard = logging.NullHandler()
_root.addHandler(_guard)
try:
    import onvif.client  # noqa: F401
finally:
    _root.removeHandler(_guard)

# Every ONVIF connection goes to the checked address of the camera's host (pinning.py).
from argus_management.onvif import pinning  # noqa: E402

pinning.install()
