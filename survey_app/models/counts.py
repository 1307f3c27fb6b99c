"""Per-cell category counts of the counted responses, and the ledger that marks them stale.

``CategoryCount`` holds, per campaign × community × household group × mode × project ×
rating item × answer code, how many counted responses gave that code
(``services.category_counts``); the roll-ups of a city or province read these few thousand
rows instead of every response.

``RosterCount`` holds the roster households per campaign × group × community (the roll-up's
N_h, which counting 1.2 M household rows per request would cost 200 ms).

The counts are refreshed off the resident's path: database triggers (migrations 0028, 0035)
only *append* a ``CountChange`` row naming the campaign whenever a response, or a
household's existence, group, community or project, changes, and the refresh
(``services.category_counts.refresh``) recomputes a changed campaign's counts exactly and
deletes the ledger rows it consumed. No shared row is updated by a submission, so
concurrent submissions in one community never wait on each other's count rows (the
rejected design of maintained totals did, on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class CategoryCount(SQLModel, table=True):
    """n counted responses of a campaign cell gave ``code`` to ``item``.

    ``community_id`` 0: no community (an open-link response without a household). ``code``
    1..5 the scale, 9 not applicable, 0 no answer (or an item the response's questionnaire
    version does not have). ``project_id`` 0: the response's household has no project (or
    there is no household). The pseudo-item ``""`` with code 0 counts the cell's responses.
    Only nonzero counts are stored. The key's order serves the roll-up's read (one campaign,
    one item, every group).
    """

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    item: str = Field(max_length=64, primary_key=True)
    household_group: str = Field(max_length=32, primary_key=True)
    community_id: int = Field(primary_key=True)
    mode: str = Field(max_length=16, primary_key=True)
    project_id: int = Field(primary_key=True)
    code: int = Field(primary_key=True)
    n: int


class RosterCount(SQLModel, table=True):
    """n roster households of a campaign in a household group and community (``community_id``
    0: none): the N_h of the roll-up's strata, kept with the category counts."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    household_group: str = Field(max_length=32, primary_key=True)
    community_id: int = Field(primary_key=True)
    n: int


class ScaleCount(SQLModel, table=True):
    """n counted responses of a campaign answered ``usable`` of its scale items (the
    dimensions' items) on the scale 1..5: the responses alpha uses pairwise (``usable`` >= 2)
    and listwise (all). Per campaign, not per cell (``services.respondent_sums``); only
    nonzero counts are stored."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    usable: int = Field(primary_key=True)
    n: int


class ListwiseSum(SQLModel, table=True):
    """Sums over a campaign's counted responses answering every item of ``row_set`` on the
    scale (``services.respondent_sums``: "scale", "dim:<dimension>", "valid:all", "model"),
    per pair of its items ``item_a`` <= ``item_b``: ``n`` responses, ``sum_a``/``sum_b`` the
    codes' sums, ``sum_ab`` their products' (``item_a`` = ``item_b``: the squares'). The header
    row ``item_a`` = ``item_b`` = "" carries ``n`` even when it is 0."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    row_set: str = Field(max_length=72, primary_key=True)
    item_a: str = Field(max_length=64, primary_key=True)
    item_b: str = Field(max_length=64, primary_key=True)
    n: int
    sum_a: int
    sum_b: int
    sum_ab: int


class DriverCount(SQLModel, table=True):
    """n counted responses of a campaign with a scale answer to the overall item
    (``overall_code``) and ``score_count`` >= 1 scale answers in ``dimension`` summing to
    ``score_sum`` (the dimension score is their mean): the driver analysis' joint
    distribution (``services.respondent_sums``)."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    dimension: str = Field(max_length=64, primary_key=True)
    score_sum: int = Field(primary_key=True)
    score_count: int = Field(primary_key=True)
    overall_code: int = Field(primary_key=True)
    n: int


class CountSnapshot(SQLModel, table=True):
    """The snapshot id (``counted_data.snapshot_id``) and number of the counted responses the
    campaign's stored per-campaign sums were computed from."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    snapshot: str = Field(max_length=64)
    responses: int


class CountChange(SQLModel, table=True):
    """A change to a campaign's counted data not yet in its CategoryCount rows (insert-only,
    written by triggers; deleted by the refresh that consumed it)."""

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(index=True)
    at: datetime = Field(default_factory=utcnow)


class PairSum(SQLModel, table=True):
    """The sums over a campaign cell's counted responses that pairwise-deletion alpha and
    inter-item correlations need, for two rating items of its dimensions (``item_a`` <=
    ``item_b``; equal: the item alone). Over the responses with a scale answer (1..5) to both:
    ``n`` of them, ``sum_a``/``sum_b`` the codes' sums, ``sum_ab`` their products' sum,
    ``sumsq_a``/``sumsq_b`` the squares' sums, ``sat_a``/``sat_b``/``sat_ab`` how many
    answered 4 or 5 to a, to b, to both (``services.pair_sums``). Cells as CategoryCount's
    (``project_id`` 0: none). Integers, so sums over cells are exact; only pairs with ``n``
    > 0 are stored."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    item_a: str = Field(max_length=64, primary_key=True)
    item_b: str = Field(max_length=64, primary_key=True)
    household_group: str = Field(max_length=32, primary_key=True)
    community_id: int = Field(primary_key=True)
    mode: str = Field(max_length=16, primary_key=True)
    project_id: int = Field(primary_key=True)
    n: int
    sum_a: int
    sum_b: int
    sum_ab: int
    sumsq_a: int
    sumsq_b: int
    sat_a: int
    sat_b: int
    sat_ab: int
