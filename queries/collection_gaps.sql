-- name: collection_gaps
-- description: Collection coverage per day over 30 days: the collect run's status, brands with an account row against the panel's brands, and which are missing; gaps (no run, a failed or partial run, a missing brand) first (parameters: panel 'pharma-fr', end date 2018-04-30).
WITH calendar AS (
    SELECT CAST(d AS date) AS dt
    FROM UNNEST(sequence(date_add('day', -29, DATE '2018-04-30'), DATE '2018-04-30', INTERVAL '1' DAY)) AS c (d)
),
collected AS (
    SELECT dt, brand_id
    FROM accounts
    WHERE panel = 'pharma-fr'
        AND dt BETWEEN date_add('day', -29, DATE '2018-04-30') AND DATE '2018-04-30'
    GROUP BY dt, brand_id
),
panel_brands AS (
    SELECT DISTINCT brand_id
    FROM accounts
    WHERE panel = 'pharma-fr'
        AND dt BETWEEN date_add('day', -29, DATE '2018-04-30') AND DATE '2018-04-30'
),
collect_runs AS (
    SELECT dt, status, posts_read, users_read
    FROM runs
    WHERE panel = 'pharma-fr'
        AND stage = 'collect'
        AND dt BETWEEN date_add('day', -29, DATE '2018-04-30') AND DATE '2018-04-30'
),
coverage AS (
    SELECT
        c.dt,
        b.brand_id,
        k.brand_id IS NOT NULL AS collected
    FROM calendar AS c
    CROSS JOIN panel_brands AS b
    LEFT JOIN collected AS k ON k.dt = c.dt AND k.brand_id = b.brand_id
)
SELECT
    v.dt,
    coalesce(r.status, 'no run') AS collect_status,
    count_if(v.collected) AS brands_collected,
    count(*) AS brands_expected,
    array_join(array_sort(array_agg(v.brand_id) FILTER (WHERE NOT v.collected)), ', ') AS missing_brands,
    coalesce(r.status, 'no run') <> 'ok' OR count_if(v.collected) < count(*) AS gap
FROM coverage AS v
LEFT JOIN collect_runs AS r ON r.dt = v.dt
GROUP BY v.dt, r.status
ORDER BY gap DESC, v.dt DESC
