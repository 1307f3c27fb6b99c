"""Registers the shared fixtures and hooks (``tests/fixtures/``) for every test.

Database tests run once on SQLite and once on PostgreSQL, each inside a transaction that
is rolled back afterwards; see ``tests/fixtures/databases.py``.

The whole suite (what ``make test`` and CI run)::

    pytest -n 2 --dist loadgroup

The quick loop while developing leaves out the tests marked ``slow`` (browser, gunicorn,
load and crash tests, and the longest property and sampling checks)::

    pytest -n 2 --dist loadgroup -m "not slow"
"""

pytest_plugins = [
    "tests.fixtures.catalogs",
    "tests.fixtures.databases",
    "tests.fixtures.demo_database",
    "tests.fixtures.apps",
    "tests.fixtures.markers",
    "tests.fixtures.reporting",
    "tests.fixtures.route_builders",
]
