-- name: indicator_trends
-- description: Each brand's eight indicators (raw value, 0-100 score, contribution) per network and run date over the 90 days ending on end_date, with the change since the previous run on the same network (all: the combined index of a panel on several networks).
-- parameters: panel (string), end_date (date), end_date
SELECT
    coalesce(i.network, 'x') AS network,
    i.dt,
    i.attribute,
    i.indicator,
    i.brand_id,
    i.value,
    round(i.score, 1) AS score,
    round(i.score - lag(i.score) OVER (
        PARTITION BY coalesce(i.network, 'x'), i.brand_id, i.indicator ORDER BY i.dt), 1) AS score_change,
    round(i.contribution, 2) AS contribution
FROM indicators AS i
WHERE i.panel = ?
    AND i.dt BETWEEN date_add('day', -89, CAST(? AS date)) AND CAST(? AS date)
ORDER BY coalesce(i.network, 'x'), i.attribute, i.indicator, i.brand_id, i.dt
