"""Legal holds: recordings, events and exports that nothing may delete until released."""
