"""webrtc of streaming-service."""
