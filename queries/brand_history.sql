-- name: brand_history
-- description: One brand's leadership index, attributes and rank over the 30 run dates ending on a date (parameters: panel 'pharma-fr', brand 'sanofi', end date 2018-04-30); the dt filter prunes partitions.
SELECT
    s.dt,
    s.rank,
    s.rank_prev,
    round(s.leadership, 1) AS leadership,
    round(s.relational, 1) AS relational,
    round(s.expression, 1) AS expression,
    round(s.engagement, 1) AS engagement,
    round(s.leadership - lag(s.leadership) OVER (ORDER BY s.dt), 1) AS leadership_change,
    s.rank_low,
    s.rank_high,
    s.window_start,
    s.window_end
FROM scores AS s
WHERE s.panel = 'pharma-fr'
    AND s.brand_id = 'sanofi'
    AND s.dt BETWEEN date_add('day', -29, DATE '2018-04-30') AND DATE '2018-04-30'
ORDER BY s.dt
