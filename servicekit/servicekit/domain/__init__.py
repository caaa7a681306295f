"""What a service's domain may import: the injected clock and the business calendar. Pure."""
