"""Imports every stage's models so Base.metadata knows all tables (for Alembic and test set-up)."""

from amanat.accounts import models as accounts_models
from amanat.cases import erasure as cases_erasure
from amanat.cases import models as cases_models
from amanat.cases import protection_models, verification_models
from amanat.core import audit, keystore
from amanat.core.db import Base
from amanat.export import models as export_models
from amanat.intake import models as intake_models
from amanat.linkage import models as linkage_models
from amanat.records import erasure as records_erasure
from amanat.records import models as records_models

__all__ = ["Base", "accounts_models", "audit", "cases_erasure", "cases_models", "export_models", "intake_models",
           "keystore", "linkage_models", "protection_models", "records_erasure", "records_models",
           "verification_models"]
