"""The city's time zone: the contract's times travel in UTC, and its days, opening hours and
months are the city's, in Asia/Shanghai.

Here, in the package every side may import, so the hub and the simulators count the same day:
the simulators may import only this contract and the standard library.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")
"""Yuanping's local time: a named zone, though China has kept +08:00 without daylight saving
since 1991."""
