"""cameras of streaming-service."""
