"""Imports every producing service's event module so the registry is complete."""

from contracts import orders, payments, seller_standards

__all__ = ["orders", "payments", "seller_standards"]
