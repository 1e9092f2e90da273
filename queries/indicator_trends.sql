-- name: indicator_trends
-- description: Each brand's eight indicators (raw value, 0-100 score, contribution) per run date over the 90 days ending on end_date, with the change since the previous run.
-- parameters: panel (string), end_date (date), end_date
SELECT
    i.dt,
    i.attribute,
    i.indicator,
    i.brand_id,
    i.value,
    round(i.score, 1) AS score,
    round(i.score - lag(i.score) OVER (PARTITION BY i.brand_id, i.indicator ORDER BY i.dt), 1) AS score_change,
    round(i.contribution, 2) AS contribution
FROM indicators AS i
WHERE i.panel = ?
    AND i.dt BETWEEN date_add('day', -89, CAST(? AS date)) AND CAST(? AS date)
ORDER BY i.attribute, i.indicator, i.brand_id, i.dt
