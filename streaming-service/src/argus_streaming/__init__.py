"""ARGUS streaming-service: live and recorded video to browsers (WebRTC/WHEP and HLS)."""
