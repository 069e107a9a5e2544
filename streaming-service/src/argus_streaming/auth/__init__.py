"""auth of streaming-service."""
