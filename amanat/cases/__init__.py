"""cases stage."""
