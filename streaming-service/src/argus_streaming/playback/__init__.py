"""playback of streaming-service."""
