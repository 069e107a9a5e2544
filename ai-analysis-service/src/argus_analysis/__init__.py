"""ARGUS ai-analysis-service: motion detection on camera streams and files."""
