"""PTZ control: exclusive locks in Redis, bounded moves, presets and home, over ONVIF."""
