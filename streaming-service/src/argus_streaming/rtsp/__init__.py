"""rtsp of streaming-service."""
