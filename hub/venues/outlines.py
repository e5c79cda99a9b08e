"""The outlines a city uploads for the venue maps: a GeoJSON FeatureCollection of Polygon and
MultiPolygon features only, checked strictly where it enters (size, shape, finite WGS-84
coordinates, a bound on features and vertices), kept as the one ``map_outlines`` row and
served to anyone (outlines of sub-districts and communities are no one's personal data).

Only ``properties.name`` (a string, at most 100 characters) is kept of each feature's
properties: the rest is dropped, so an upload cannot smuggle anything else onto the public page.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from hub.venues.models import MapOutlines

MAX_BYTES = 2_000_000
MAX_FEATURES = 500
MAX_VERTICES = 100_000
MAX_NAME = 100
EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}


class OutlinesError(ValueError):
    """Bad outlines, with what is wrong and where."""


def parse(body: bytes) -> tuple[dict[str, Any], int]:
    """The checked, normalised FeatureCollection and its number of vertices."""
    if len(body) > MAX_BYTES:
        raise OutlinesError(f"outlines: {len(body)} bytes, more than {MAX_BYTES}")
    try:
        doc = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise OutlinesError(f"outlines: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise OutlinesError("outlines: not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise OutlinesError("outlines: features must be a list")
    if len(features) > MAX_FEATURES:
        raise OutlinesError(f"outlines: {len(features)} features, more than {MAX_FEATURES}")
    kept: list[dict[str, Any]] = []
    vertices = 0
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise OutlinesError(f"{where}: not a GeoJSON Feature")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict):
            raise OutlinesError(f"{where}.geometry: missing")
        kind = geometry.get("type")
        coords = geometry.get("coordinates")
        if kind == "Polygon":
            vertices += _polygon(coords, f"{where}.geometry.coordinates")
        elif kind == "MultiPolygon":
            if not isinstance(coords, list) or not coords:
                raise OutlinesError(f"{where}.geometry.coordinates: a list of polygons expected")
            for j, polygon in enumerate(coords):
                vertices += _polygon(polygon, f"{where}.geometry.coordinates[{j}]")
        else:
            raise OutlinesError(
                f"{where}.geometry.type: {str(kind)[:40]!r}, only Polygon and MultiPolygon"
            )
        if vertices > MAX_VERTICES:
            raise OutlinesError(f"outlines: more than {MAX_VERTICES} vertices")
        properties = feature.get("properties")
        name = properties.get("name") if isinstance(properties, dict) else None
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise OutlinesError(f"{where}.properties.name: a string of at most {MAX_NAME}")
        kept.append(
            {
                "type": "Feature",
                "properties": {"name": name} if name is not None else {},
                "geometry": {"type": kind, "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "features": kept}, vertices


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number GeoJSON allows")


def _polygon(rings: Any, where: str) -> int:
    if not isinstance(rings, list) or not rings:
        raise OutlinesError(f"{where}: a list of linear rings expected")
    count = 0
    for k, ring in enumerate(rings):
        at = f"{where}[{k}]"
        if not isinstance(ring, list) or len(ring) < 4:
            raise OutlinesError(f"{at}: a linear ring needs at least 4 positions")
        for m, position in enumerate(ring):
            _position(position, f"{at}[{m}]")
        if ring[0] != ring[-1]:
            raise OutlinesError(f"{at}: a linear ring must end where it starts")
        count += len(ring)
        if count > MAX_VERTICES:
            raise OutlinesError(f"outlines: more than {MAX_VERTICES} vertices")
    return count


def _position(position: Any, where: str) -> None:
    if (
        not isinstance(position, list)
        or len(position) not in {2, 3}
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
    ):
        raise OutlinesError(f"{where}: a position is [longitude, latitude]")
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise OutlinesError(f"{where}: coordinates must be finite")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise OutlinesError(f"{where}: [{lon}, {lat}] is outside WGS-84 longitude and latitude")


def store(conn: Connection, doc: dict[str, Any], vertices: int, by: str, at: datetime) -> None:
    conn.execute(delete(MapOutlines))
    conn.execute(
        insert(MapOutlines).values(
            id=1,
            geojson=json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
            features=len(doc["features"]),
            vertices=vertices,
            uploaded_at=at,
            uploaded_by=by[:64],
        )
    )


def load(conn: Connection) -> str:
    """The stored outlines as JSON text (an empty collection before any upload)."""
    stored = conn.scalar(select(MapOutlines.geojson).where(MapOutlines.id == 1))
    return stored if stored is not None else json.dumps(EMPTY)
