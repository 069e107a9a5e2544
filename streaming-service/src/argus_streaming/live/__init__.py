"""live of streaming-service."""
