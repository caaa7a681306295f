"""What a service's domain may import: the injected clock, the business calendar and `Refusal`
(how a rule says no). Pure."""
