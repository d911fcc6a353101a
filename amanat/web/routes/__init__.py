"""One router per area; each route loads, checks permission and calls a service."""
