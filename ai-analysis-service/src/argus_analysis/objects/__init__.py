"""Object detection, tracking and zone/line rules (motion-gated; see README "Objects")."""
