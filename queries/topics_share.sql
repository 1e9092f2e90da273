-- name: topics_share
-- description: What each brand talks about (source posts) and what is said about it (source mentions) in the latest run of a panel, per network (all: the combined index of a panel on several networks): its five largest topics and their share of the items.
-- parameters: panel (string), panel
WITH latest AS (
    SELECT max(dt) AS dt
    FROM topics
    WHERE panel = ?
),
ranked AS (
    SELECT
        coalesce(t.network, 'x') AS network,
        t.brand_id,
        t.source,
        t.family,
        t.topic,
        t.items,
        t.share,
        t.window_start,
        t.window_end,
        row_number() OVER (
            PARTITION BY coalesce(t.network, 'x'), t.brand_id, t.source ORDER BY t.share DESC, t.topic
        ) AS nth
    FROM topics AS t
    JOIN latest AS l ON t.dt = l.dt
    WHERE t.panel = ?
)
SELECT
    brand_id,
    network,
    source,
    nth AS topic_rank,
    family,
    topic,
    items,
    round(100 * share, 1) AS share_pct,
    window_start,
    window_end
FROM ranked
WHERE nth <= 5
ORDER BY brand_id, network, source, nth
