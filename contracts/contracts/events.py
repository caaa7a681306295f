"""Imports every producing service's event module so the registry is complete."""

from contracts import orders, payments

__all__ = ["orders", "payments"]
