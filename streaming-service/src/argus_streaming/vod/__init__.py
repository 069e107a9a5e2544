"""vod of streaming-service."""
