-- name: top_posts
-- description: The 20 most engaging brand posts created in the 30 days ending on end_date, by interactions (likes + reposts + replies + quotes) at their latest observation; reposts and deleted posts excluded.
-- parameters: panel (string), end_date (date), end_date, end_date, end_date
WITH observed AS (
    SELECT
        p.*,
        row_number() OVER (PARTITION BY p.post_id ORDER BY p.observed_at DESC, p.dt DESC) AS nth
    FROM posts AS p
    WHERE p.panel = ?
        AND p.dt BETWEEN date_add('day', -29, CAST(? AS date)) AND date_add('day', 7, CAST(? AS date))
)
SELECT
    brand_id,
    post_id,
    created_at,
    kind,
    coalesce(likes, 0) + coalesce(reposts, 0) + coalesce(replies, 0) + coalesce(quotes, 0) AS interactions,
    likes,
    reposts,
    replies,
    quotes,
    impressions,
    substr(text, 1, 100) AS text
FROM observed
WHERE nth = 1
    AND kind <> 'repost'
    AND NOT coalesce(deleted, false)
    AND created_at >= CAST(date_add('day', -29, CAST(? AS date)) AS timestamp)
    AND created_at < CAST(date_add('day', 1, CAST(? AS date)) AS timestamp)
ORDER BY interactions DESC, created_at DESC, post_id
LIMIT 20
