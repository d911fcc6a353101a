"""Commands that belong to the pipeline's stages (normalise, intake, link, …), registered on `amanat`."""

from __future__ import annotations
