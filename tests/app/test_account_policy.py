"""Staff accounts hold against guessing and leftovers (issue 16, item 8)."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from survey_app.models import ApiToken, Role, User
from survey_app.services import account_policy, api_tokens, users
from tests.factories import PASSWORD, login, make_user


@pytest.mark.parametrize(("username", "password", "message"), [
    ("li.ming", "12345678", "全是数字"),
    ("li.ming", "aaaaaaaaaa", "同一个字符"),
    ("li.ming", "password", "常用密码"),
    ("li.ming", "Password1", "常用密码"),  # compared in lower case
    ("li.ming", "qwertyuiop", "常用密码"),
    ("li.ming", "short7!", "至少8个字符"),
    ("zhangwei", "zhangwei", "不能包含用户名"),
    ("zhangwei", "my-zhangwei-2024", "不能包含用户名"),
    ("zhangwei2024", "zhangwei", "不能包含用户名"),  # contained in the name
    ("\u0430dmin", "heshan-guanli-2021", "CYRILLIC SMALL LETTER A"),
    ("adm\u0456n", "heshan-guanli-2021", "CYRILLIC SMALL LETTER BYELORUSSIAN"),
    ("admin\u200b", "heshan-guanli-2021", "ZERO WIDTH SPACE"),
    ("", "heshan-guanli-2021", "用户名不能为空"),
    ("x" * 65, "heshan-guanli-2021", "最多64个字符"),
])
def test_weak_passwords_and_look_alike_usernames_are_refused(session, username, password,
                                                             message):
    with pytest.raises(users.UserError, match=message):
        users.create_user(username, password, Role.EVALUATOR, session=session)


@pytest.mark.parametrize("username", ["li", "王芳", "wang.fang@hs", "worker-thl2"])
def test_ordinary_usernames_and_a_good_password_are_accepted(session, username):
    user = users.create_user(username, "heshan-pingjia-2021", Role.EVALUATOR, session=session)
    assert user.username == username


def test_full_width_usernames_are_stored_and_matched_in_their_normal_form(session):
    user = users.create_user("ｚｈａｏ", PASSWORD, Role.EVALUATOR, session=session)
    assert user.username == "zhao"
    with pytest.raises(users.UserError, match="已存在"):
        users.create_user("zhao", PASSWORD, Role.EVALUATOR, session=session)
    assert users.authenticate(" ｚｈａｏ", PASSWORD, session=session).id == user.id


def test_the_common_password_list_is_shipped_with_the_package():
    common = account_policy.common_passwords()
    assert len(common) == 19640
    assert {"123456", "password", "qwerty"} <= common


@pytest.mark.parametrize(("failures", "seconds"), [
    (0, 0), (5, 0), (6, 30), (7, 60), (9, 240), (11, 900), (60, 900)])
def test_the_wait_doubles_after_the_free_failures_up_to_fifteen_minutes(failures, seconds):
    assert account_policy.login_wait(failures) == timedelta(seconds=seconds)


def test_failed_logins_back_off_per_account_whatever_the_address(app, session):
    user = make_user(session, Role.EVALUATOR)
    client = app.test_client()
    for n in range(account_policy.FREE_FAILURES + 1):
        # A new address each time: the per-address limit (off in tests) would not see it.
        client.post("/auth/login", data={"username": user.username, "password": f"wrong{n}"},
                    environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
    session.refresh(user)
    assert user.failed_logins == account_policy.FREE_FAILURES + 1
    # The right password is refused during the wait ...
    assert login(client, user).status_code == 200
    session.refresh(user)
    assert user.failed_logins == account_policy.FREE_FAILURES + 1  # waiting is not failing
    # ... and accepted after it, which clears the count.
    user.last_failed_login_at -= account_policy.login_wait(user.failed_logins)
    session.add(user)
    session.flush()
    assert login(client, user).status_code == 302
    session.refresh(user)
    assert (user.failed_logins, user.last_failed_login_at) == (0, None)


def test_deactivating_an_account_revokes_its_api_tokens_for_good(app, session):
    evaluator = make_user(session, Role.EVALUATOR)
    admin = make_user(session, Role.ADMIN)
    token = api_tokens.create_api_token(evaluator, session=session)
    assert api_tokens.user_for_token(token, session=session).id == evaluator.id
    users.set_user_active(evaluator, False, session=session, actor=admin)
    users.set_user_active(evaluator, True, session=session, actor=admin)
    assert api_tokens.user_for_token(token, session=session) is None
    record = session.exec(select(ApiToken).where(ApiToken.user_id == evaluator.id)).one()
    assert record.revoked_at is not None


def test_ids_of_deleted_accounts_and_tokens_are_never_handed_out_again(session):
    first = make_user(session, Role.EVALUATOR)
    token = api_tokens.create_api_token(first, session=session)
    token_id = session.exec(select(ApiToken.id).where(ApiToken.user_id == first.id)).one()
    session.exec(text("DELETE FROM apitoken WHERE id = :id").bindparams(id=token_id))
    session.exec(text("DELETE FROM app_user WHERE id = :id").bindparams(id=first.id))
    session.expunge_all()
    second = make_user(session, Role.EVALUATOR)
    assert second.id > first.id
    assert api_tokens.user_for_token(token, session=session) is None
    new_token_id = session.exec(select(ApiToken.id).where(
        ApiToken.id == _created_token_id(session, second))).one()
    assert new_token_id > token_id


def _created_token_id(session, user):
    api_tokens.create_api_token(user, session=session)
    return session.exec(select(ApiToken.id).where(ApiToken.user_id == user.id)).one()


def test_hsts_is_sent_when_cookies_are_secure(make_app):
    secure = make_app(PUBLIC_BASE_URL="https://survey.example.cn")
    assert "max-age=31536000" in secure.test_client().get("/").headers[
        "Strict-Transport-Security"]
    plain = make_app()
    assert "Strict-Transport-Security" not in plain.test_client().get("/").headers


def test_the_cli_refuses_a_weak_password_with_the_rule(runner, session):
    result = runner.invoke(args=["users", "create", "zhangsan", "--role", "evaluator"],
                           input="12345678\n12345678\n")
    assert result.exit_code != 0
    assert "全是数字" in result.output
    assert session.exec(select(User).where(User.username == "zhangsan")).first() is None
