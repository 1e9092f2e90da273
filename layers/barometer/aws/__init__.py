"""The AWS edge of the barometer: typed settings and events, the on-demand trigger.

Nothing here imports Powertools (only the Lambda handlers in functions/ do) and nothing reads
`os.environ`: handlers pass the environment in once, at cold start, to `Settings.from_env`.
Importing this package loads the standard library only (the handlers do it at cold start):
`RunRequest` and `Settings` are frozen dataclasses, not pydantic models.
"""

from barometer.aws.events import RunRequest
from barometer.aws.settings import Settings

__all__ = ["RunRequest", "Settings"]
