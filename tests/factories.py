"""Factories for test data: fixtures return these so each test builds what it needs."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from survey_app.models import Community, Role, User
from survey_app.services import campaigns, users

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def make_community(session: Session, code: str | None = None, name: str = "桃花仑社区",
                   street: str = "桃花仑街道") -> Community:
    community = Community(code=code or f"C{next(_counter):03d}", name=name, street=street)
    session.add(community)
    session.flush()
    return community


def make_user(session: Session, role: str = Role.EVALUATOR, *, username: str | None = None,
              community: Community | None = None) -> User:
    if role == Role.WORKER and community is None:
        community = make_community(session)
    return users.create_user(
        username or f"{role}{next(_counter)}", PASSWORD, role, session=session,
        community_code=community.code if community else None,
    )


def make_campaign(session: Session, slug: str | None = None, **fields):
    campaign = campaigns.create_campaign(
        slug or f"camp-{next(_counter)}", fields.pop("title", "测试调查"),
        fields.pop("year", 2021), session=session)
    for key, value in fields.items():
        setattr(campaign, key, value)
    session.add(campaign)
    session.flush()
    return campaign


def login(client, user: User, password: str = PASSWORD):
    return client.post("/auth/login", data={"username": user.username, "password": password})
