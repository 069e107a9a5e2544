"""RTMP push from phones and encoders: stream keys and the nginx-rtmp hooks."""
