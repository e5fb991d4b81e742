"""Reads and writes declarative automation state: one cursor per asset
(`automation_cursors`) and a bounded history of explained evaluations
(`automation_evaluations`, the newest `EVALUATIONS_KEPT` per asset)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.serdes import decode, encode, replace
from bakehouse.storage import codec
from bakehouse.storage.automation_records import AutomationCursor, AutomationEvaluation
from bakehouse.storage.corrupt import read_or_mark, skip_corrupt
from bakehouse.storage.schema import automation_cursors, automation_evaluations

EVALUATIONS_KEPT = 200
"""Evaluations kept per asset; older ones are deleted as new ones are stored."""

_C = automation_cursors.c
_E = automation_evaluations.c


def _cursor_from_body(body: str) -> AutomationCursor:
    return decode(body, AutomationCursor, what="automation cursor")


def _evaluation_from_row(storage_id: int, body: str) -> AutomationEvaluation:
    found = decode(body, AutomationEvaluation, what=f"automation evaluation {storage_id}")
    return replace(found, storage_id=storage_id)


def select_cursors(conn: Connection, asset_keys: Sequence[str]) -> dict[str, AutomationCursor]:
    """The stored cursors of `asset_keys`, by key; keys never evaluated are absent."""
    if not asset_keys:
        return {}
    digests = [codec.digest(k) for k in asset_keys]
    stmt = sa.select(_C.asset_key, _C.body).where(_C.asset_digest.in_(digests))
    found = skip_corrupt(
        read_or_mark("automation_cursors", row.asset_key, partial(_cursor_from_body, row.body))
        for row in conn.execute(stmt)
    )
    wanted = set(asset_keys)
    return {c.asset_key: c for c in found if c.asset_key in wanted}


def write_cursor(conn: Connection, cursor: AutomationCursor) -> None:
    """Store `cursor`, replacing the asset's previous one."""
    asset_digest = codec.digest(cursor.asset_key)
    conn.execute(sa.delete(automation_cursors).where(_C.asset_digest == asset_digest))
    conn.execute(
        sa.insert(automation_cursors).values(
            asset_digest=asset_digest,
            asset_key=cursor.asset_key,
            updated_at=time.time(),
            body=encode(cursor),
        )
    )


def insert_evaluation(conn: Connection, evaluation: AutomationEvaluation) -> AutomationEvaluation:
    """Store `evaluation` and drop the asset's evaluations beyond the newest `EVALUATIONS_KEPT`."""
    asset_digest = codec.digest(evaluation.asset_key)
    result = conn.execute(
        sa.insert(automation_evaluations).values(
            asset_digest=asset_digest,
            asset_key=evaluation.asset_key,
            origin=evaluation.origin,
            evaluated_at=evaluation.evaluated_at,
            num_requested=evaluation.num_requested,
            body=encode(replace(evaluation, storage_id=None)),
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has one
    storage_id = int(inserted[0])
    oldest_kept = (
        sa.select(_E.id)
        .where(_E.asset_digest == asset_digest)
        .order_by(_E.id.desc())
        .offset(EVALUATIONS_KEPT - 1)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        sa.delete(automation_evaluations).where(
            _E.asset_digest == asset_digest, _E.id < oldest_kept
        )
    )
    return replace(evaluation, storage_id=storage_id)


def select_evaluations(
    conn: Connection,
    asset_key: str,
    *,
    limit: int | None,
    before_id: int | None = None,
    requested_only: bool = False,
) -> list[AutomationEvaluation]:
    """The asset's evaluations, newest first (page with `before_id`)."""
    stmt = (
        sa.select(_E.id, _E.body)
        .where(_E.asset_digest == codec.digest(asset_key), _E.asset_key == asset_key)
        .order_by(_E.id.desc())
    )
    if before_id is not None:
        stmt = stmt.where(_E.id < before_id)
    if requested_only:
        stmt = stmt.where(_E.num_requested > 0)
    if limit is not None:
        stmt = stmt.limit(limit)
    return skip_corrupt(
        read_or_mark(
            "automation_evaluations", row.id, partial(_evaluation_from_row, row.id, row.body)
        )
        for row in conn.execute(stmt)
    )


def select_evaluation(conn: Connection, storage_id: int) -> AutomationEvaluation | None:
    """The evaluation stored under `storage_id`, if it is still kept."""
    row = conn.execute(sa.select(_E.id, _E.body).where(_E.id == storage_id)).first()
    return _evaluation_from_row(row.id, row.body) if row is not None else None
