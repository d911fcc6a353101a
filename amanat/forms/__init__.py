"""forms stage."""
