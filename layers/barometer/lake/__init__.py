"""The lake: Parquet tables with Hive partitions panel=/dt=, and the raw page archive.

The exports are lazy (PEP 562): importing `barometer.lake.<module>` or naming the package
does not import pyarrow; `from barometer.lake import Lake` does, when it is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from barometer.lake.schemas import SCHEMAS, TABLES
    from barometer.lake.store import Lake

__all__ = ["SCHEMAS", "TABLES", "Lake"]

_EXPORTS = {"SCHEMAS": "barometer.lake.schemas", "TABLES": "barometer.lake.schemas",
            "Lake": "barometer.lake.store"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
