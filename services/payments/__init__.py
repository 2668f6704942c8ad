"""Payments: the gateway protocol, its test-mode implementation, card checks, idempotency."""
