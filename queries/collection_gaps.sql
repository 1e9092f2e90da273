-- name: collection_gaps
-- description: Collection coverage per day and network over the 30 days ending on end_date: the status of the day's latest collect run (a date may be collected again; one run reads every network), brands with an account row on the network against the brands seen there, and which are missing; gaps (no run, a failed or partial run, a missing brand) first.
-- parameters: end_date (date), end_date, panel (string), end_date, end_date, panel, end_date, end_date
WITH calendar AS (
    -- Every day of the window, even those without any row. Athena takes `?` in WHERE clauses
    -- only, so the window filters a span of days (sequence's limit: 10,000 entries).
    SELECT CAST(d AS date) AS dt
    FROM UNNEST(sequence(date_add('day', -9998, current_date), date_add('day', 1, current_date), INTERVAL '1' DAY)) AS c (d)
    WHERE CAST(d AS date) BETWEEN date_add('day', -29, CAST(? AS date)) AND CAST(? AS date)
),
collected AS (
    SELECT dt, coalesce(network, 'x') AS network, brand_id
    FROM accounts
    WHERE panel = ?
        AND dt BETWEEN date_add('day', -29, CAST(? AS date)) AND CAST(? AS date)
    GROUP BY dt, coalesce(network, 'x'), brand_id
),
panel_brands AS (
    -- per network, the brands with an account there (a brand without one is not a gap there)
    SELECT DISTINCT network, brand_id
    FROM collected
),
collect_runs AS (
    -- one row per collect run: a date collected again has several, its latest one counts
    SELECT
        dt,
        status,
        row_number() OVER (PARTITION BY dt ORDER BY started_at DESC, run_id DESC) AS nth
    FROM runs
    WHERE panel = ?
        AND stage = 'collect'
        AND dt BETWEEN date_add('day', -29, CAST(? AS date)) AND CAST(? AS date)
),
coverage AS (
    SELECT
        c.dt,
        b.network,
        b.brand_id,
        k.brand_id IS NOT NULL AS collected
    FROM calendar AS c
    CROSS JOIN panel_brands AS b
    LEFT JOIN collected AS k ON k.dt = c.dt AND k.network = b.network AND k.brand_id = b.brand_id
)
SELECT
    v.dt,
    v.network,
    coalesce(r.status, 'no run') AS collect_status,
    count_if(v.collected) AS brands_collected,
    count(*) AS brands_expected,
    array_join(array_sort(array_agg(v.brand_id) FILTER (WHERE NOT v.collected)), ', ') AS missing_brands,
    coalesce(r.status, 'no run') <> 'ok' OR count_if(v.collected) < count(*) AS gap
FROM coverage AS v
LEFT JOIN collect_runs AS r ON r.dt = v.dt AND r.nth = 1
GROUP BY v.dt, v.network, r.status
ORDER BY gap DESC, v.dt DESC, v.network
