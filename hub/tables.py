"""Every table of the hub on one metadata: import this where the whole schema is needed
(Alembic's ``env.py``, schema checks), never for one package's tables."""

from __future__ import annotations

import hub.audit.models
import hub.auth.models
import hub.commands.models
import hub.ingest.models
import hub.notify.models
import hub.org.models
import hub.sites.models
import hub.venues.models  # noqa: F401  (imported for their tables)
from hub.core.base import Base

metadata = Base.metadata

__all__ = ["Base", "metadata"]
