"""Every user-facing string goes through translation and has a Chinese translation."""

import pytest
from babel.messages.pofile import read_po

from survey_app.i18n_catalogs import catalog_dirs, compile_all, extract, po_path


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
    compile_all()
    page = client.get("/").get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Staff login" in english and 'lang="en"' in english
    # The choice sticks for the rest of the visit.
    assert "Staff login" in client.get("/auth/login").get_data(as_text=True)
