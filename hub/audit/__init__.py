"""The audit log: who changed which registry row, when, from what to what, through which request;
and who exported personal data. Append-only (docs/administration.md).

Changes made through the ORM are recorded by a flush hook (:mod:`hub.audit.recorder`) for every
table declared :class:`Audited`; writes that bypass the ORM (bulk imports) call :func:`record`.
Who is acting is said once per session with :func:`act_as`.
"""

from hub.audit.context import SYSTEM, Actor, act_as, actor_of
from hub.audit.models import Audited, AuditEntry
from hub.audit.recorder import REDACTED, record, record_export, record_many

__all__ = [
    "REDACTED",
    "SYSTEM",
    "Actor",
    "AuditEntry",
    "Audited",
    "act_as",
    "actor_of",
    "record",
    "record_export",
    "record_many",
]
