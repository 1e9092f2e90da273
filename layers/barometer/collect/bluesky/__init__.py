"""Collecting from Bluesky (AT Protocol, through the `atproto` SDK).

- `session`: login with an app password, the session kept in the lake's state and refreshed
  (logins are limited to 30 per 5 minutes and 300 a day per account);
- `fetch`: the XRPC reads, each page archived under `raw/` before it is parsed;
- `parse`: pages → lake rows (`network = bluesky`), mention targets from facets' DIDs;
- `runner`: one run over the panel's Bluesky accounts: profiles (≤ 25 a call), incremental
  author feeds (stop at the last known post), refresh of young posts (getPosts, ≤ 25 URIs),
  mentions by searchPosts in since/until slices under the ~10,000-hit cap; deadline and 429s
  end the run partial, resumed by the next one.
"""

from barometer.collect.bluesky.runner import BlueskyResult, collect_bluesky

__all__ = ["BlueskyResult", "collect_bluesky"]
