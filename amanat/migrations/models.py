"""Imports every stage's models so Base.metadata knows all tables (for Alembic and test set-up)."""

from amanat.accounts import models as accounts_models
from amanat.cases import models as cases_models
from amanat.core import audit, keystore
from amanat.core.db import Base
from amanat.intake import models as intake_models
from amanat.linkage import models as linkage_models
from amanat.records import models as records_models

__all__ = ["Base", "accounts_models", "audit", "cases_models", "intake_models", "keystore", "linkage_models",
           "records_models"]
