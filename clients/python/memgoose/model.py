"""A model (collection) of a database, with Mongoose/pymongo-style methods.

    User = db.model("User", {"fields": {"email": {"type": "string", "required": True,
                                                  "unique": True}},
                             "timestamps": True})
    uid = User.insert_one({"email": "ada@example.com", "age": 36})
    User.find({"age": {"$gte": 30}}, sort={"age": -1}, limit=10, projection={"email": 1})
    User.update_one({"_id": uid}, {"$inc": {"age": 1}})

Each method is one request of CONTRACT.md §5 (the operation named in its docstring) and
raises the :mod:`memgoose.errors` class of the daemon's error code. Filters, updates, sorts and
projections are passed through as the protocol defines them (MongoDB's syntax). A ``sort`` may
also be given as a list of ``(field, direction)`` pairs.
"""

from dataclasses import dataclass
from typing import Any, Optional

from .codec import wrap_doc, wrap_id

__all__ = ["Model", "UpdateResult"]


@dataclass(frozen=True)
class UpdateResult:
    """What ``update_one``, ``update_many`` and ``replace_one`` did."""

    matched_count: int
    modified_count: int
    upserted_id: Optional[Any] = None  # the new document's ``_id`` after an upsert, else None


def _sort(sort):
    if sort is None or isinstance(sort, dict):
        return sort
    if isinstance(sort, str):
        return {sort: 1}
    return {field: direction for field, direction in sort}


def _update_result(reply):
    return UpdateResult(
        reply.get("matchedCount", 0), reply.get("modifiedCount", 0), wrap_id(reply.get("upsertedId"))
    )


class Model:
    """Model ``name`` of a :class:`~memgoose.Database`; made by ``Database.model``.

    Thread-safe like its client. Documents are plain dicts (see :mod:`memgoose.codec` for the
    value types).
    """

    def __init__(self, database, name):
        self.database = database
        self.name = name

    def call(self, op, **args):
        """One request for this model: ``client.call(op, db=..., model=..., **args)``."""
        return self.database.client.call(op, db=self.database.name, model=self.name, **args)

    # -- the model ------------------------------------------------------------------------------

    def define(self, schema):
        """``defineModel``: sets the schema; True when the model is new."""
        return self.call("defineModel", schema=schema)["created"]

    def drop(self):
        """``dropModel``: removes the model and its documents; False if it did not exist."""
        return self.call("dropModel")["dropped"]

    # -- writes ---------------------------------------------------------------------------------

    def insert_one(self, doc):
        """``insertOne``: stores ``doc`` and returns its ``_id`` (generated when absent)."""
        return wrap_id(self.call("insertOne", doc=doc)["insertedId"])

    def insert_many(self, docs):
        """``insertMany``: all or nothing; returns the ``_id`` of each document in order.
        On failure nothing is inserted and the error's ``index`` names the document."""
        return [wrap_id(i) for i in self.call("insertMany", docs=list(docs))["insertedIds"]]

    def update_one(self, filter, update, *, upsert=False):
        """``updateOne``: applies the update operators ``update`` to the first match."""
        return _update_result(self.call("updateOne", filter=filter, update=update, upsert=upsert))

    def update_many(self, filter, update, *, upsert=False):
        """``updateMany``: applies ``update`` to every match (all or nothing)."""
        return _update_result(self.call("updateMany", filter=filter, update=update, upsert=upsert))

    def replace_one(self, filter, replacement, *, upsert=False):
        """``replaceOne``: replaces the first match's fields (its ``_id`` stays)."""
        return _update_result(
            self.call("replaceOne", filter=filter, replacement=replacement, upsert=upsert)
        )

    def delete_one(self, filter=None):
        """``deleteOne``: returns how many documents were deleted (0 or 1)."""
        return self.call("deleteOne", filter=filter or {})["deletedCount"]

    def delete_many(self, filter=None):
        """``deleteMany``: returns how many documents were deleted (``{}``: all of them)."""
        return self.call("deleteMany", filter=filter or {})["deletedCount"]

    def find_one_and_update(
        self, filter, update, *, sort=None, upsert=False, return_document="before", projection=None
    ):
        """``findOneAndUpdate``: the first match by ``sort`` as it was ``"before"`` the update
        (or ``"after"``); None when nothing matched and nothing was upserted."""
        reply = self.call(
            "findOneAndUpdate",
            filter=filter,
            update=update,
            sort=_sort(sort),
            upsert=upsert,
            returnDocument=return_document,
            projection=projection,
        )
        return wrap_doc(reply.get("doc"))

    def find_one_and_delete(self, filter, *, sort=None, projection=None):
        """``findOneAndDelete``: deletes the first match by ``sort`` and returns it (or None)."""
        reply = self.call("findOneAndDelete", filter=filter, sort=_sort(sort), projection=projection)
        return wrap_doc(reply.get("doc"))

    # -- reads ----------------------------------------------------------------------------------

    def find(self, filter=None, *, sort=None, skip=0, limit=0, projection=None):
        """``find``: the matching documents as a list (``limit=0``: no limit)."""
        reply = self.call(
            "find",
            filter=filter or {},
            sort=_sort(sort),
            skip=skip or None,
            limit=limit or None,
            projection=projection,
        )
        return [wrap_doc(d) for d in reply["docs"]]

    def find_one(self, filter=None, *, sort=None, projection=None):
        """``findOne``: the first match (by ``sort``), or None."""
        reply = self.call("findOne", filter=filter or {}, sort=_sort(sort), projection=projection)
        return wrap_doc(reply.get("doc"))

    def find_by_id(self, id, *, projection=None):
        """``findById``: the document whose ``_id`` is ``id``, or None."""
        return wrap_doc(self.call("findById", _id=id, projection=projection).get("doc"))

    def count(self, filter=None):
        """``count``: how many documents match ``filter`` (all by default)."""
        return self.call("count", filter=filter or {})["count"]

    def count_documents(self, filter=None):
        """Alias of :meth:`count` (pymongo's name)."""
        return self.count(filter)

    def distinct(self, field, filter=None):
        """``distinct``: the distinct values of ``field`` (a dot path) among the matches."""
        return self.call("distinct", field=field, filter=filter or {})["values"]

    def aggregate(self, pipeline):
        """``aggregate``: runs the pipeline (a list of stages) and returns the documents."""
        return [wrap_doc(d) for d in self.call("aggregate", pipeline=list(pipeline))["docs"]]

    # -- change stream --------------------------------------------------------------------------

    def changes(self, after=0, limit=None):
        """``changes``: ``(events, last_seq)``, the retained events with ``seq > after``
        (ChangeStreamHistoryLostError when they are gone)."""
        reply = self.call("changes", after=after, limit=limit)
        return reply["events"], reply["lastSeq"]

    def watch(self, after=None, **kwargs):
        """A :class:`~memgoose.ChangeStream` of this model's events with ``seq > after``
        (``after=None``: from now on); see :class:`~memgoose.ChangeStream` for ``kwargs``."""
        from .watch import ChangeStream

        return ChangeStream(self, after, **kwargs)

    def __repr__(self):
        return f"memgoose.Model({self.database.name}.{self.name})"
