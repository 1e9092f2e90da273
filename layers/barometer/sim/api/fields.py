"""The request vocabulary: the fields and expansions X accepts, and each endpoint's parameters.

Unknown values are refused with X's own 400 (see `params`), so a client asking for a field
the real API would reject fails here too instead of silently getting nothing.
"""

from __future__ import annotations

TWEET_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "suggested_source_links",
        "text",
        "username",
        "withheld",
    }
)
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    }
)
TWEET_EXPANSIONS = frozenset(
    {
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    }
)
USER_EXPANSIONS = frozenset({"affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"})
_MEDIA_PLACE_POLL = ("media.fields", "poll.fields", "place.fields")
_TWEET_PARAMS = ("tweet.fields", "user.fields", "expansions", *_MEDIA_PLACE_POLL)
ALLOWED: dict[str, tuple[str, ...]] = {
    "users_by": ("usernames", "user.fields", "expansions", "tweet.fields"),
    "users": ("ids", "user.fields", "expansions", "tweet.fields"),
    "users_tweets": (
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "exclude",
        "start_time",
        "end_time",
        *_TWEET_PARAMS,
    ),
    "tweets": ("ids", *_TWEET_PARAMS),
    "search_recent": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "max_results",
        "next_token",
        "pagination_token",
        "sort_order",
        *_TWEET_PARAMS,
    ),
    "counts_recent": (
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "next_token",
        "pagination_token",
        "granularity",
        "search_count.fields",
    ),
    "usage": ("days", "usage.fields"),
}
ALLOWED["search_all"] = ALLOWED["search_recent"]
ALLOWED["counts_all"] = ALLOWED["counts_recent"]
