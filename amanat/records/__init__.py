"""records stage."""

# Registers the flush hook that puts each record's values under its own data key (see data_keys.py):
# whatever imports a part of this stage gets it.
from amanat.records import data_keys as _data_keys  # noqa: F401
