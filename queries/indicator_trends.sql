-- name: indicator_trends
-- description: Each brand's eight indicators (raw value, 0-100 score, contribution) per run date over 90 days, with the change since the previous run (parameters: panel 'pharma-fr', end date 2018-04-30).
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
WHERE i.panel = 'pharma-fr'
    AND i.dt BETWEEN date_add('day', -89, DATE '2018-04-30') AND DATE '2018-04-30'
ORDER BY i.attribute, i.indicator, i.brand_id, i.dt
