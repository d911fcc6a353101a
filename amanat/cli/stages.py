"""Commands that belong to the pipeline's stages (normalise, intake, link, …), registered on `amanat`."""

from __future__ import annotations

from amanat.cli import devices as _devices  # noqa: F401 - registers `amanat users device-*`
from amanat.cli.dedupe import dedupe_command
from amanat.cli.intake import intake_app
from amanat.cli.link import link_app
from amanat.cli.main import app
from amanat.cli.normalize import normalize_app
from amanat.cli.odk import odk_app

app.add_typer(normalize_app, name="normalize")
app.add_typer(odk_app, name="odk")
app.command("dedupe")(dedupe_command)
app.add_typer(link_app, name="link")
app.add_typer(intake_app, name="intake")
