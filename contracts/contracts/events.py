"""Imports every producing service's event module so the registry is complete."""

from contracts import orders, payments, principals, seller_standards, support

__all__ = ["orders", "payments", "principals", "seller_standards", "support"]
