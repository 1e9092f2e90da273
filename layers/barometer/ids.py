"""The shape of the barometer's ids (panels, brands): lower-case letters, digits and `-`.

Standard library only: `barometer.aws.events` checks a request's panel id with it at a
Lambda's cold start, without importing the panel models (`barometer.config`: pydantic, yaml).
"""

from __future__ import annotations

import re

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
