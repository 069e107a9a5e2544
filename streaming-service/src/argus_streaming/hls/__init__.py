"""hls of streaming-service."""
