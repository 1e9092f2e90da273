-- name: mentions_daily
-- description: Daily mentions per brand and share of voice, each day counted by its latest observation (a day is recounted by several runs); parameters: panel 'pharma-fr', the 181 days ending 2018-04-30.
WITH observed AS (
    SELECT
        brand_id,
        day,
        mentions,
        row_number() OVER (PARTITION BY brand_id, network, day ORDER BY dt DESC) AS nth
    FROM mention_counts
    WHERE panel = 'pharma-fr'
        AND dt BETWEEN date_add('day', -180, DATE '2018-04-30') AND date_add('day', 7, DATE '2018-04-30')
        AND day BETWEEN date_add('day', -180, DATE '2018-04-30') AND DATE '2018-04-30'
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
