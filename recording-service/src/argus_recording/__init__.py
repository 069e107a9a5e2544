"""ARGUS recording-service: records cameras into crash-safe fragmented MP4 segments."""
