"""Shared venues (共享场所): occupancy from gate counters and bay sensors, capacity alerts,
rollups and the venue-sharing records."""
