"""media of streaming-service."""
