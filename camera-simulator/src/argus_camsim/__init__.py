"""ARGUS camera simulator: virtual IP cameras (RTSP, ONVIF, WS-Discovery) for demos and tests."""
