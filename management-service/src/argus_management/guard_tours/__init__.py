"""PTZ guard tours: a camera's presets visited in turn, run by the server under the PTZ lock."""
