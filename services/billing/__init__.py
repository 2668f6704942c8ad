"""Billing: subscriptions, invoices, renewals and dunning."""
