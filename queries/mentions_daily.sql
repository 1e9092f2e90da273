-- name: mentions_daily
-- description: Daily mentions per brand and share of voice, each day counted by its latest observation (a day is recounted by several runs), over the 181 days ending on end_date.
-- parameters: panel (string), end_date (date), end_date, end_date, end_date
WITH observed AS (
    SELECT
        brand_id,
        day,
        mentions,
        row_number() OVER (PARTITION BY brand_id, network, day ORDER BY dt DESC) AS nth
    FROM mention_counts
    WHERE panel = ?
        AND dt BETWEEN date_add('day', -180, CAST(? AS date)) AND date_add('day', 7, CAST(? AS date))
        AND day BETWEEN date_add('day', -180, CAST(? AS date)) AND CAST(? AS date)
)
SELECT
    day,
    brand_id,
    sum(mentions) AS mentions,
    round(100.0 * sum(mentions) / nullif(sum(sum(mentions)) OVER (PARTITION BY day), 0), 1) AS share_of_voice_pct
FROM observed
WHERE nth = 1
GROUP BY day, brand_id
ORDER BY day, brand_id
