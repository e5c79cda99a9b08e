"""The one place that turns SQLAlchemy's errors into the two cases a writer treats differently:
the database cannot take the work now (retry the same thing later), or it refuses something in it
(retrying the same thing will not help)."""

from __future__ import annotations

from sqlalchemy import exc


class StoreUnavailableError(Exception):
    """The database cannot take the batch now (down, locked, connection lost): retry later."""


class RecordsRejectedError(Exception):
    """The database refused something in the batch itself: retrying the same batch will not help."""


def translate(err: exc.SQLAlchemyError) -> StoreUnavailableError | RecordsRejectedError | None:
    """What ``err`` means to a writer, or ``None`` when it is neither case (a bug)."""
    if isinstance(err, exc.IntegrityError | exc.DataError):
        return RecordsRejectedError(describe(err))
    if isinstance(err, exc.DBAPIError):
        # connection, lock, schema (a missing table), server trouble: nothing to do with one
        # message, so the whole batch waits and is retried
        return StoreUnavailableError(describe(err))
    if isinstance(err, exc.TimeoutError):  # no connection free in the pool
        return StoreUnavailableError(describe(err))
    if isinstance(err, exc.StatementError):  # a value the driver could not even send
        return RecordsRejectedError(describe(err))
    return None


def is_transient(err: BaseException) -> bool:
    """The database is (for now) out of reach: the connection, the server or the pool. Narrower
    than what :func:`translate` calls unavailable: a derived write that meets a missing table
    or a refused value logs it and goes on rather than holding ingest back."""
    return isinstance(err, exc.OperationalError | exc.InterfaceError | exc.TimeoutError)


def describe(err: BaseException) -> str:
    """The driver's own first line, named by its type."""
    original = getattr(err, "orig", None)
    return f"{type(original or err).__name__}: {str(original or err).strip().splitlines()[0]}"
