"""Small factories for the management-service tests, one module per domain."""
