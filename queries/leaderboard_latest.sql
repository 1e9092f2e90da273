-- name: leaderboard_latest
-- description: The latest leaderboard of each panel, per network: opinion leadership index (0-100), its three attributes, rank and sensitivity rank band. A panel on several networks has one leaderboard per network (x, bluesky) and the combined one (network all, its main leaderboard); a panel on one network has that network's.
WITH latest AS (
    SELECT panel, max(dt) AS dt
    FROM scores
    GROUP BY panel
)
SELECT
    s.panel,
    s.dt,
    coalesce(s.network, 'x') AS network,
    s.rank,
    s.brand_id,
    s.brand_name,
    round(s.leadership, 1) AS leadership,
    round(s.relational, 1) AS relational,
    round(s.expression, 1) AS expression,
    round(s.engagement, 1) AS engagement,
    s.rank_low,
    s.rank_high,
    s.rank_prev,
    round(s.coverage, 2) AS coverage
FROM scores AS s
JOIN latest AS l
    ON s.panel = l.panel AND s.dt = l.dt
ORDER BY s.panel, coalesce(s.network, 'x'), s.rank, s.brand_id
