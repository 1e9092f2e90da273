-- name: brand_history
-- description: One brand's leadership index, attributes and rank on each run date of the 30 days ending on end_date, per network (x, bluesky, and all for the combined index of a panel on several networks); the dt filter prunes partitions.
-- parameters: panel (string), brand_id (string), end_date (date), end_date
SELECT
    coalesce(s.network, 'x') AS network,
    s.dt,
    s.rank,
    s.rank_prev,
    round(s.leadership, 1) AS leadership,
    round(s.relational, 1) AS relational,
    round(s.expression, 1) AS expression,
    round(s.engagement, 1) AS engagement,
    round(s.leadership - lag(s.leadership) OVER (PARTITION BY coalesce(s.network, 'x') ORDER BY s.dt), 1)
        AS leadership_change,
    s.rank_low,
    s.rank_high,
    s.window_start,
    s.window_end
FROM scores AS s
WHERE s.panel = ?
    AND s.brand_id = ?
    AND s.dt BETWEEN date_add('day', -29, CAST(? AS date)) AND CAST(? AS date)
ORDER BY coalesce(s.network, 'x'), s.dt
