"""Shared code of the ARGUS services."""
