-- name: top_posts
-- description: The 20 most engaging brand posts on each network (x, bluesky) created in the 30 days ending on end_date, by interactions (likes + reposts + replies + quotes) at their latest observation; reposts and deleted posts excluded.
-- parameters: panel (string), end_date (date), end_date, end_date, end_date
WITH observed AS (
    SELECT
        p.*,
        coalesce(p.network, 'x') AS net,
        coalesce(p.likes, 0) + coalesce(p.reposts, 0) + coalesce(p.replies, 0) + coalesce(p.quotes, 0)
            AS interactions,
        row_number() OVER (
            PARTITION BY coalesce(p.network, 'x'), p.post_id ORDER BY p.observed_at DESC, p.dt DESC
        ) AS nth
    FROM posts AS p
    WHERE p.panel = ?
        AND p.dt BETWEEN date_add('day', -29, CAST(? AS date)) AND date_add('day', 7, CAST(? AS date))
),
ranked AS (
    SELECT
        o.*,
        row_number() OVER (PARTITION BY o.net ORDER BY o.interactions DESC, o.created_at DESC, o.post_id) AS top
    FROM observed AS o
    WHERE o.nth = 1
        AND o.kind <> 'repost'
        AND NOT coalesce(o.deleted, false)
        AND o.created_at >= CAST(date_add('day', -29, CAST(? AS date)) AS timestamp)
        AND o.created_at < CAST(date_add('day', 1, CAST(? AS date)) AS timestamp)
)
SELECT
    net AS network,
    brand_id,
    post_id,
    created_at,
    kind,
    interactions,
    likes,
    reposts,
    replies,
    quotes,
    impressions,
    substr(text, 1, 100) AS text
FROM ranked
WHERE top <= 20
ORDER BY net, top
