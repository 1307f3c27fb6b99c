"""The base of the typed documents (:mod:`survey_app.services.scores_model`): immutable
models that refuse unknown keys, and the interval and snapshot types they share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

#: A 95 % interval ``[low, high]``; a bound is None where it is undefined (alpha on 2 rows).
Interval = tuple[float | None, float | None]
#: sha256 hex digest naming the exact counted responses (see the ``snapshot`` convention).
SnapshotId = Annotated[str, StringConstraints(pattern="^[0-9a-f]{64}$")]


class DocumentModel(BaseModel):
    """Immutable, and unknown keys are refused, so a builder change cannot drift silently.

    The validators are built on first use (``defer_build``): resident and entry requests
    never touch these models, so workers do not pay for them at start-up.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Document(DocumentModel):
    """A whole document (what an API route or the CLI returns)."""
