"""Evidence exports: remuxed MP4s in a signed bundle (see ``service.py``)."""
