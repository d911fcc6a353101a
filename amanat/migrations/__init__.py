"""Alembic migrations, one per schema change, from the first table on."""
