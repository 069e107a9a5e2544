"""ONVIF cameras: the device wrapper, WS-Discovery, probing and registration from a probe."""
