"""Every user-facing string goes through translation and has a Chinese translation."""

import pytest
from babel import support
from babel.messages.pofile import read_po

from survey_app import i18n
from survey_app.i18n_catalogs import catalog_dirs, extract, po_path


@pytest.mark.parametrize("name", sorted(catalog_dirs()))
def test_catalog_is_complete_and_current(name):
    extracted = {m.id for m in extract(name) if m.id}
    with po_path(name, "zh").open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    in_po = {m.id for m in catalog if m.id}
    missing_from_po = extracted - in_po
    hint = "run `python -m survey_app.i18n_catalogs update`"
    assert not missing_from_po, f"{hint}: {missing_from_po}"
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert not untranslated, f"untranslated in {name}: {untranslated}"


def test_chinese_is_the_default_and_english_selectable(client):
    page = client.get("/").get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Staff login" in english and 'lang="en"' in english
    # The choice sticks for the rest of the visit.
    assert "Staff login" in client.get("/auth/login").get_data(as_text=True)


def test_wtforms_messages_are_translated_from_a_catalogue_read_once(client, monkeypatch):
    # Flask-WTF would read WTForms' catalogue from disk in every request that builds a form.
    i18n.wtforms_translations.cache_clear()
    read = []
    real_load = support.Translations.load

    def load(dirname, locales, domain):
        # Flask-Babel's own catalogues load on a worker's first request (whichever test
        # makes it): only WTForms' catalogue is under test.
        if domain == "wtforms":
            read.append([str(locale) for locale in locales])
        return real_load(dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", staticmethod(load))
    for _ in range(3):
        page = client.post("/auth/login", data={}).get_data(as_text=True)
        assert "该字段是必填字段。" in page  # WTForms' DataRequired message, in Chinese
    english = client.post("/auth/login?lang=en", data={}).get_data(as_text=True)
    assert "This field is required." in english
    assert read == [["zh"], ["en"]]
