"""Prometheus text exposition of the hub's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hub.api.deps import MetricsDep
from hub.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE)
