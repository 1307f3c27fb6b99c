"""Administrative units (行政区划): province → city → county → street → community.

Codes follow GB/T 2260 (six digits for province, city and county, e.g. 湖南省 430000,
益阳市 430900, 赫山区 430903) extended as the statistical division codes do (nine digits
for a street/township, twelve for a community). ``path`` holds the codes from the root,
e.g. ``/430000/430900/430903/``, so a unit's whole subtree is one indexed prefix query
(``path LIKE '/430000/430900/%'``) without a recursive query.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"  # 省
    CITY = "city"  # 市
    COUNTY = "county"  # 县/区
    STREET = "street"  # 街道/乡镇
    COMMUNITY = "community"  # 社区/村


class Unit(SQLModel, table=True):
    """One administrative unit and its place in the hierarchy."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=100)
    level: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # "/<root code>/.../<own code>/": the subtree of a unit is every path starting with its.
    path: str = Field(max_length=120, index=True)
    created_at: datetime = Field(default_factory=utcnow)
