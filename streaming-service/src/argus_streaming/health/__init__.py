"""health of streaming-service."""
