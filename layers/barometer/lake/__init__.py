"""The lake: Parquet tables with Hive partitions panel=/dt=, and the raw page archive."""

from barometer.lake.schemas import SCHEMAS, TABLES
from barometer.lake.store import Lake

__all__ = ["SCHEMAS", "TABLES", "Lake"]
