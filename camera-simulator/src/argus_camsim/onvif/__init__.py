"""ONVIF device of the camera simulator: device, media and PTZ services over SOAP 1.2.

Entry point: ``start_onvif`` (one HTTP server per camera).
"""

from argus_camsim.onvif.security import OnvifAuth
from argus_camsim.onvif.server import OnvifServer, start_onvif

__all__ = ["OnvifAuth", "OnvifServer", "start_onvif"]
