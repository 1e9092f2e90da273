"""Who wrote a mention, as a node of the interaction graph, when authors were not expanded.

Mentions are read without author expansion (issue 13): a row carries `author_id`, and its
`author_handle` is null unless the panel asked for profiles. The interaction graph names its
nodes by handle (targets are the handles a post mentions), so an author must get the handle
under which others mention them, or the author's outgoing edges and the edges into them would
sit on two different nodes. The mapping comes from what the lake already holds: the posts'
own entities (`mentioned_ids` next to `mentioned_handles`) and the brands' accounts. An author
nobody in the window mentions is a source only: any distinct name will do, `~<id>` (a handle
never holds `~`). Rows that carry a handle keep it: a lake collected with profiles scores as
before.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def _strings(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return pc.cast(arr, pa.string())


def _flat(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not len(arr):
        return pa.array([], pa.string())
    return _strings(pc.list_flatten(arr))


def id_handles(mentions: pa.Table, accounts: list[pa.Table]) -> tuple[pa.Array, pa.Array]:
    """(ids, handles): one handle per account id known from entities and the accounts tables."""
    ids: list[pa.Array] = []
    handles: list[pa.Array] = []
    for t in accounts:
        if t.num_rows:
            ids.append(_strings(t["account_id"]))
            handles.append(pc.utf8_lower(_strings(t["handle"])))
    if "mentioned_ids" in mentions.column_names and mentions.num_rows:
        mi, mh = _flat(mentions["mentioned_ids"]), _flat(mentions["mentioned_handles"])
        if len(mi) == len(mh):  # element for element (rows written before the column: all null)
            ids.append(mi)
            handles.append(mh)
    if not ids:
        return pa.array([], pa.string()), pa.array([], pa.string())
    pairs = pa.table({"id": pa.concat_arrays(ids), "handle": pa.concat_arrays(handles)})
    pairs = pairs.filter(pc.and_(pc.is_valid(pairs["id"]), pc.is_valid(pairs["handle"])))
    first = pairs.group_by("id", use_threads=False).aggregate([("handle", "first")])
    return _strings(first["id"]), _strings(first["handle_first"])


def author_handles(mentions: pa.Table, accounts: list[pa.Table]) -> pa.Array:
    """`author_handle` with the nulls filled (see module doc): the graph's source names."""
    handle = _strings(mentions["author_handle"]) if mentions.num_rows else pa.array([], pa.string())
    if handle.null_count == 0:
        return handle
    ids, handles = id_handles(mentions, accounts)
    author = _strings(mentions["author_id"])
    known = handles.take(pc.index_in(author, value_set=ids))
    fallback = pc.binary_join_element_wise("~", pc.fill_null(author, ""), "")
    return pc.coalesce(handle, known, fallback)
