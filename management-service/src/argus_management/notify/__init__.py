"""Outbound notifications of alerts (webhook)."""
