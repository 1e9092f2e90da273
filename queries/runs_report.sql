-- name: runs_report
-- description: Stage runs of the 30 days ending on end_date with duration, status, billed X reads and estimated API cost in USD, most recent first.
-- parameters: panel (string), end_date (date), end_date
SELECT
    r.dt,
    r.stage,
    r.status,
    date_diff('second', r.started_at, r.finished_at) AS seconds,
    r.brands_ok,
    r.brands_failed,
    r.api_requests,
    r.posts_read,
    r.users_read,
    round(r.cost_usd, 3) AS cost_usd,
    round(sum(r.cost_usd) OVER (ORDER BY r.dt, r.started_at ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 3) AS cumulative_cost_usd,
    cardinality(r.errors) AS errors,
    r.run_id
FROM runs AS r
WHERE r.panel = ?
    AND r.dt BETWEEN date_add('day', -29, CAST(? AS date)) AND CAST(? AS date)
ORDER BY r.dt DESC, r.started_at DESC
