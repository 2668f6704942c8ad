"""Webhooks: merchants' endpoints, Standard Webhooks signing, and at-least-once delivery.

- `endpoints`: create, update, disable, delete, rotate the secret (sealed at rest).
- `history`: events and their attempts, as the merchant sees them; redelivery.
- `fan_out`: each recorded event becomes one delivery per endpoint that wants it.
- `delivery`: the worker that claims due deliveries and makes each attempt, with retries.
- `sender`: one signed HTTP POST, pinned to an address that `addresses` checked.
"""
