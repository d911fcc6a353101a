"""accounts stage."""
