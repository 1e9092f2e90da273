-- name: mentions_daily
-- description: Daily mentions per brand and share of voice, per network (x, bluesky) and, for a panel on several networks, summed over them (network all); each day counted by its latest observation (a day is recounted by several runs), over the 181 days ending on end_date.
-- parameters: panel (string), end_date (date), end_date, end_date, end_date
WITH observed AS (
    SELECT
        brand_id,
        coalesce(network, 'x') AS network,
        day,
        mentions,
        row_number() OVER (PARTITION BY brand_id, coalesce(network, 'x'), day ORDER BY dt DESC) AS nth
    FROM mention_counts
    WHERE panel = ?
        AND dt BETWEEN date_add('day', -180, CAST(? AS date)) AND date_add('day', 7, CAST(? AS date))
        AND day BETWEEN date_add('day', -180, CAST(? AS date)) AND CAST(? AS date)
),
latest AS (
    SELECT brand_id, network, day, mentions
    FROM observed
    WHERE nth = 1
),
counted AS (
    SELECT day, brand_id, network, sum(mentions) AS mentions
    FROM latest
    GROUP BY day, brand_id, network
    UNION ALL
    -- the combined rows, when the window holds more than one network
    SELECT day, brand_id, 'all' AS network, sum(mentions) AS mentions
    FROM latest
    WHERE (SELECT count(DISTINCT network) FROM latest) > 1
    GROUP BY day, brand_id
)
SELECT
    day,
    network,
    brand_id,
    mentions,
    round(100.0 * mentions / nullif(sum(mentions) OVER (PARTITION BY day, network), 0), 1) AS share_of_voice_pct
FROM counted
ORDER BY day, network, brand_id
