"""The X API v2 simulator: a deterministic simulated world served over real HTTP.

- `world.build_world(panel, seed)`: accounts, followers, posts, mentions, deletions;
  pharma-fr is calibrated to the 2018 barometer (`calibration`). The data types are in
  `model`, the generation phases in `worldgen`.
- `server.SimServer(world, ...)`: the HTTP server (endpoint logic in `api`).
- `faults.FaultPlan`: injected failures (429, cap, 5xx, resets, timeouts, renames…).
"""
