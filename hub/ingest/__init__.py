"""The ingest worker: MQTT in, records out, acknowledged only after the commit."""

from __future__ import annotations

from hub.ingest.worker import IngestStatus, IngestWorker

__all__ = ["IngestStatus", "IngestWorker"]
