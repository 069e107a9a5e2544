"""RTSP 1.0 server (RFC 2326) with RTP/H.264 (RFC 6184) and RTP/AAC (RFC 3640) delivery."""
