"""Prometheus text exposition of the hub's own registry.

It needs an operator's token (``system.read``), unless ``HUB_METRICS_PUBLIC=true`` opens it for
a Prometheus that scrapes without credentials on a trusted network (docs/security.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from hub.api.auth import OptionalPrincipal, authenticated, require
from hub.api.deps import MetricsDep, SettingsDep
from hub.auth import Permission
from hub.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


def metrics_reader(settings: SettingsDep, principal: OptionalPrincipal) -> None:
    if settings.metrics_public:
        return
    require(Permission.SYSTEM_READ)(authenticated(principal))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}, 401: {}, 403: {}},
    dependencies=[Depends(metrics_reader)],
)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE)
