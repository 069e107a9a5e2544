"""ARGUS management-service."""
