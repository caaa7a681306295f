"""A service as a process: settings from the environment, logs, HTTP problem details and
callers, pagination, deadline timers, and `ServiceRuntime`, which composes the rest."""
