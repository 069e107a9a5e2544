"""Camera liveness: evidence from the media services, active probes, hysteresis, alerts."""
