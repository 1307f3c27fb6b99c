"""``survey-app contacts purge`` and ``contacts rotate-key`` through the CLI runner."""

from __future__ import annotations

from sqlmodel import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, Household
from survey_app.services import contact_vault
from tests.fixtures.settings import TEST_SETTINGS
from tests.services import rosters


def _campaign(runner, tmp_path, slug: str) -> None:
    assert runner.invoke(args=["campaign", "create", slug, "--title", "T"]).exit_code == 0
    path = tmp_path / "roster.csv"
    path.write_bytes(rosters.csv_text(rosters.rows(12)).encode())
    result = runner.invoke(args=["roster", "import", slug, str(path)])
    assert result.exit_code == 0, result.output


def _sealed(app, slug: str) -> list[Household]:
    with app.app_context():
        campaign = db.session.exec(select(Campaign).where(Campaign.slug == slug)).one()
        return list(db.session.exec(select(Household).where(
            Household.campaign_id == campaign.id)))


def test_purge_is_refused_while_open_and_deletes_every_clear_contact_once_closed(
        app, runner, tmp_path):
    _campaign(runner, tmp_path, "vault-1")
    assert runner.invoke(args=["campaign", "open", "vault-1"]).exit_code == 0
    refused = runner.invoke(args=["contacts", "purge", "vault-1"])
    assert refused.exit_code == 1 and "fieldwork" in refused.output
    assert all(h.contact_sealed for h in _sealed(app, "vault-1"))
    assert runner.invoke(args=["campaign", "close", "vault-1"]).exit_code == 0
    done = runner.invoke(args=["contacts", "purge", "vault-1"])
    assert done.exit_code == 0, done.output
    assert "12 households" in done.output
    households = _sealed(app, "vault-1")
    assert all(h.contact_sealed is None and h.contact_purged_at for h in households)
    assert all(h.phone_hmac and h.id_number_hmac for h in households)
    assert runner.invoke(args=["contacts", "purge", "nope"]).exit_code == 1


def test_rotate_key_reseals_under_the_configured_key(app, runner, make_app, tmp_path):
    """Each command runs in its own app (no app context kept pushed), as from a shell."""
    _campaign(runner, tmp_path, "vault-2")
    old_key, new_key = TEST_SETTINGS["CONTACT_KEY"], "the-next-contact-key"
    rotated = make_app(CONTACT_KEY=new_key).test_cli_runner()
    missing = rotated.invoke(args=["contacts", "rotate-key"],
                             env={"SURVEY_CONTACT_KEY_OLD": ""})
    assert missing.exit_code == 1 and "SURVEY_CONTACT_KEY_OLD" in missing.output
    result = rotated.invoke(args=["contacts", "rotate-key"],
                            env={"SURVEY_CONTACT_KEY_OLD": old_key})
    assert result.exit_code == 0, result.output
    assert "12 sealed contacts re-sealed" in result.output
    table = {row[0]: row for row in rosters.rows(12)}
    for household in _sealed(app, "vault-2"):
        contact = contact_vault.open_sealed(
            household.contact_sealed, campaign_id=household.campaign_id,
            household_code=household.household_code, secret=new_key)
        assert contact.phone == table[household.household_code][7]
    # Round trip: back to the first key, and the contacts open with it again.
    back = runner.invoke(args=["contacts", "rotate-key"],
                         env={"SURVEY_CONTACT_KEY_OLD": new_key})
    assert back.exit_code == 0, back.output
    household = _sealed(app, "vault-2")[0]
    assert contact_vault.open_sealed(
        household.contact_sealed, campaign_id=household.campaign_id,
        household_code=household.household_code,
        secret=old_key).name == table[household.household_code][5]
    # Nothing is left under a key no blob uses: a second run changes nothing.
    again = runner.invoke(args=["contacts", "rotate-key"],
                          env={"SURVEY_CONTACT_KEY_OLD": new_key})
    assert again.exit_code == 0 and "0 sealed contacts" in again.output
    # A wrong old key for blobs that need rotating: refused as a whole.
    wrong = make_app(CONTACT_KEY="yet-another-key").test_cli_runner().invoke(
        args=["contacts", "rotate-key"], env={"SURVEY_CONTACT_KEY_OLD": "not-the-key"})
    assert wrong.exit_code == 1 and "nothing was changed" in wrong.output
    assert {h.contact_key_id for h in _sealed(app, "vault-2")} == {
        contact_vault.key_id(old_key)}
    with app.app_context():
        assert len(db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "contact.rotate_key")).all()) == 3  # the refusal: none
