"""Customers: golden records, source records and identity links."""
