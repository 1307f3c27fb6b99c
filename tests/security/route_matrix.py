"""Expected HTTP status of every route and method for every role (read by test_route_matrix).

One line per ``"METHOD rule"`` exactly as in ``app.url_map``; the statuses are in the order
of the columns below. The URL parameters are filled from the scenario in
tests/security/conftest.py (``Scenario.params``): community A's household, paper form and
response, the campaign's slug, and the role's own survey token (a resident with a wrong
token gets a made-up one). Worker B always asks for community A's objects.

What the codes mean here:
- 302 for anonymous visitors and residents on staff pages: the redirect to /auth/login
  (checked: nowhere else);
- 403: logged in, wrong role; 404 for worker B on A's household or paper form: the same
  answer as for something that does not exist;
- /api/v1: 401 without a bearer token (worker B has none), 403 with a worker's token;
- POSTs send the body in BODIES (default: empty); what matters is who gets through, so an
  empty body may well give the authorised role 400 (form rejected) or 200 (form re-shown).

To add a route: add its line here (the test prints a template line for each missing route),
and a PARAMS entry when a URL parameter must come from another scenario value.
"""

ROLES = ("anonymous", "resident", "resident_wrong_token", "worker_a", "worker_b", "evaluator",
         "admin")
STAFF_PREFIXES = ("/entry/", "/evaluate/", "/admin/")
# Audit events that GET requests write on purpose (who exported the data, and the scores
# snapshot the export carries, anchored in the audit chain); see the no-state-change test.
AUDITED_GETS = ("export.", "scores.snapshot")

# A staff page for one role only, for anonymous/resident/wrong-token/worker A/worker B/
# evaluator/admin.
ADMIN_ONLY = (302, 302, 302, 403, 403, 403, 200)
STAFF = (302, 302, 302, 200, 200, 403, 200)  # workers and admins
EVALUATORS = (302, 302, 302, 403, 403, 200, 200)
HOUSEHOLD_OF_A = (302, 302, 302, 200, 404, 403, 200)  # worker B: not found
# Reconciling: who keyed neither entry, evaluators included (issue 16: two people).
RECONCILERS = (302, 302, 302, 200, 404, 200, 200)
FORM_LISTS = (302, 302, 302, 200, 200, 200, 200)
PUBLIC = (200, 200, 200, 200, 200, 200, 200)
TOKEN_PAGE = (200, 200, 404, 200, 200, 200, 200)  # the wrong token: unavailable
API = (401, 401, 401, 403, 401, 200, 200)  # worker A holds a token, worker B none
ADMIN_POST_DONE = (302, 302, 302, 403, 403, 403, 302)  # admin: saved, redirected (PRG)
ADMIN_POST_REJECTED = (302, 302, 302, 403, 403, 403, 400)  # admin: empty form rejected

MATRIX = {
    # public and authentication
    "GET /": PUBLIC,
    "GET /favicon.ico": (301, 301, 301, 301, 301, 301, 301),
    "GET /auth/login": PUBLIC,
    "POST /auth/login": PUBLIC,  # empty form: re-shown
    "POST /auth/logout": (302, 302, 302, 302, 302, 302, 302),
    "GET /s/<token>": TOKEN_PAGE,
    "POST /s/<token>": (400, 400, 404, 400, 400, 400, 400),  # no instance id: bad request
    "GET /s/<token>/receipt/<instance_id>": TOKEN_PAGE,
    "GET /c/<slug>": PUBLIC,
    "GET /c/<slug>/<group>": PUBLIC,  # the identification step
    "GET /c/<slug>/answer": PUBLIC,  # the group choice of an unverified answer
    "POST /c/<slug>/identify": (422, 422, 422, 422, 422, 422, 422),  # nothing typed
    "POST /c/<slug>/<group>": (400, 400, 400, 400, 400, 400, 400),
    "GET /c/<slug>/<group>/receipt/<instance_id>": PUBLIC,  # the instance id is the secret
    "GET /receipt": PUBLIC,  # the receipt-code check
    "POST /receipt": (422, 422, 422, 422, 422, 422, 422),  # nothing typed: form re-shown
    # JSON API
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /api/v1/campaigns": API,
    "GET /api/v1/campaigns/<slug>/progress": API,
    "GET /api/v1/campaigns/<slug>/scores": API,
    # 404 for evaluator and admin: the scenario draws no back-check sample.
    "GET /api/v1/campaigns/<slug>/backchecks": (401, 401, 401, 403, 401, 404, 404),
    # the SMS provider's callbacks: no SMS_CALLBACK_SECRET in the tests' settings, so 404
    # for everybody (with a secret, 403 without ?key=: tests/services/test_sms_outbox.py)
    "POST /gateway/sms/report": (404, 404, 404, 404, 404, 404, 404),
    "POST /gateway/sms/reply": (404, 404, 404, 404, 404, 404, 404),
    "GET /api/v1/units/<code>/<int:year>/rollup": API,
    # exports as jobs: an empty body names no format (400); the scenario's queued export is
    # the evaluator's (its file: 409 until done), every other account gets 404
    "POST /api/v1/campaigns/<slug>/exports": (401, 401, 401, 403, 401, 400, 400),
    "GET /api/v1/jobs/<int:job_id>": (401, 401, 401, 403, 401, 200, 404),
    "GET /api/v1/jobs/<int:job_id>/download": (401, 401, 401, 403, 401, 409, 404),
    # paper entry (workers see their own community; admins all)
    "GET /entry/": STAFF,
    "GET /entry/<slug>/": STAFF,
    "POST /entry/<slug>/": STAFF,  # empty code: form re-shown with its error
    "GET /entry/<slug>/households": STAFF,
    "GET /entry/<slug>/households/<int:household_id>": HOUSEHOLD_OF_A,
    # empty body keeps the current outcome: recorded and redirected
    "POST /entry/<slug>/households/<int:household_id>": (302, 302, 302, 302, 404, 403, 302),
    # the contact vault: only the household's own community worker (empty body: re-shown)
    "POST /entry/<slug>/households/<int:household_id>/contact":
        (302, 302, 302, 200, 404, 403, 403),
    # the visit log: empty body, form re-shown with its errors
    "POST /entry/<slug>/households/<int:household_id>/visits": HOUSEHOLD_OF_A,
    # a worker's visit list (their own community); admins choose one (?community=<id>)
    "GET /entry/<slug>/visits": (302, 302, 302, 200, 200, 403, 404),
    # with names, addresses and phones: workers only, each household's reveal audited
    "POST /entry/<slug>/visits": (302, 302, 302, 200, 200, 403, 403),
    # the offline interviewer page (issue 22): workers only; its JSON answers a logged-out
    # phone 401 (the page keeps its interviews and asks for a new login), not the redirect
    "GET /entry/<slug>/field/": (302, 302, 302, 200, 200, 403, 403),
    "GET /entry/<slug>/field/sw.js": PUBLIC,  # the same script for everyone
    "GET /entry/<slug>/field/app.webmanifest": PUBLIC,  # installing the page on a phone
    "GET /entry/<slug>/field/pack.json": (401, 401, 401, 200, 200, 403, 403),
    # no CSRF header: refused after the login check
    "POST /entry/<slug>/field/interviews": (401, 401, 401, 400, 400, 403, 403),
    # the contacts to keep offline: the vault's rule and audit (no CSRF header: refused)
    "POST /entry/<slug>/field/contacts": (401, 401, 401, 400, 400, 403, 403),
    "GET /entry/<slug>/households/<int:household_id>/enter": HOUSEHOLD_OF_A,
    "POST /entry/<slug>/households/<int:household_id>/enter": HOUSEHOLD_OF_A,
    "GET /entry/<slug>/forms": FORM_LISTS,
    "GET /entry/<slug>/forms/<int:form_id>/reconcile": RECONCILERS,
    "POST /entry/<slug>/forms/<int:form_id>/reconcile": RECONCILERS,
    "GET /entry/<slug>/forms/<int:form_id>/decide": ADMIN_ONLY,
    "POST /entry/<slug>/forms/<int:form_id>/decide": ADMIN_ONLY,  # no reason: re-shown
    "GET /entry/<slug>/progress": STAFF,
    "GET /entry/<slug>/print/blank/<group>": STAFF,
    "GET /entry/<slug>/print/households/<int:household_id>": HOUSEHOLD_OF_A,
    # admins must choose a community (?community=<id>): without one, not found
    "GET /entry/<slug>/print/sample": (302, 302, 302, 200, 200, 403, 404),
    # keying paradata and fabrication indicators: whoever decides on back-checks
    "GET /entry/<slug>/quality": EVALUATORS,
    "GET /entry/<slug>/responses/<int:response_id>/edit": ADMIN_ONLY,
    "POST /entry/<slug>/responses/<int:response_id>/edit": ADMIN_ONLY,  # no reason: re-shown
    "POST /entry/<slug>/responses/<int:response_id>/delete": ADMIN_POST_DONE,
    # evaluation
    "GET /evaluate/": EVALUATORS,
    "GET /evaluate/<slug>": EVALUATORS,
    # a region's roll-up (the city's; unit-scoped roles: UNIT_ROLES below)
    "GET /evaluate/units/<code>/<int:year>": EVALUATORS,
    "GET /evaluate/<slug>/quality": EVALUATORS,
    # bulk decision by flag: done (or refused with a flashed reason), redirected (PRG)
    "POST /evaluate/<slug>/quality/decisions": (302, 302, 302, 403, 403, 302, 302),
    "GET /evaluate/<slug>/export/<fmt>": EVALUATORS,
    "GET /evaluate/<slug>/report.docx": EVALUATORS,
    # background jobs: started (PRG back to the dashboard); the job's progress and file for
    # the evaluator who asked (the scenario's queued export: no file yet), 404 for others
    "POST /evaluate/<slug>/jobs/export/<fmt>": (302, 302, 302, 403, 403, 302, 302),
    "POST /evaluate/<slug>/jobs/report": (302, 302, 302, 403, 403, 302, 302),
    "GET /evaluate/jobs/<int:job_id>": (302, 302, 302, 403, 403, 200, 404),
    "GET /evaluate/jobs/<int:job_id>/download": (302, 302, 302, 403, 403, 404, 404),
    "GET /evaluate/<slug>/report-template.docx": EVALUATORS,
    # evaluators: saved, or refused with a flashed reason; redirected either way (PRG)
    "POST /evaluate/<slug>/indicator-notes": (302, 302, 302, 403, 403, 302, 302),
    "POST /evaluate/<slug>/report-template": (302, 302, 302, 403, 403, 302, 302),
    "GET /evaluate/<slug>/responses/<int:response_id>": EVALUATORS,
    "POST /evaluate/<slug>/responses/<int:response_id>/exclusion":
        (302, 302, 302, 403, 403, 302, 302),
    # the free text as typed: evaluators only (not admins), with a reason; shown, not stored
    "POST /evaluate/<slug>/responses/<int:response_id>/reveal":
        (302, 302, 302, 403, 403, 200, 403),
    # a hand redaction of the free text (none typed: an earlier one removed), PRG
    "POST /evaluate/<slug>/responses/<int:response_id>/redaction":
        (302, 302, 302, 403, 403, 302, 302),
    "GET /evaluate/<slug>/comments": EVALUATORS,
    # back-checks: the list for evaluators and admins; drawing, settings, calls and the
    # contact reveal for evaluators only (empty body: form re-shown). The scenario's
    # household A001 is in no back-check draw: not found.
    "GET /evaluate/<slug>/backchecks": EVALUATORS,
    "POST /evaluate/<slug>/backchecks/settings": (302, 302, 302, 403, 403, 400, 403),
    "POST /evaluate/<slug>/backchecks/draw": (302, 302, 302, 403, 403, 400, 403),
    # Evaluator: refused (no sample drawn), flashed and redirected.
    "POST /evaluate/<slug>/backchecks/topup": (302, 302, 302, 403, 403, 302, 403),
    "GET /evaluate/<slug>/backchecks/<int:household_id>": (302, 302, 302, 403, 403, 404, 404),
    "POST /evaluate/<slug>/backchecks/<int:household_id>": (302, 302, 302, 403, 403, 404, 403),
    "POST /evaluate/<slug>/backchecks/<int:household_id>/contact":
        (302, 302, 302, 403, 403, 404, 403),
    # administration
    "GET /admin/": ADMIN_ONLY,
    "GET /admin/users": ADMIN_ONLY,
    "POST /admin/users": ADMIN_POST_REJECTED,
    "POST /admin/users/<int:user_id>/active": ADMIN_POST_DONE,
    "GET /admin/campaigns/new": ADMIN_ONLY,
    "POST /admin/campaigns/new": ADMIN_POST_REJECTED,
    "GET /admin/campaigns/<slug>": ADMIN_ONLY,
    "GET /admin/campaigns/<slug>/poster": ADMIN_ONLY,
    "POST /admin/campaigns/<slug>/status": ADMIN_POST_DONE,
    "POST /admin/campaigns/<slug>/dates": ADMIN_POST_DONE,  # empty dates are allowed
    "POST /admin/campaigns/<slug>/questionnaires": ADMIN_POST_REJECTED,
    "POST /admin/campaigns/<slug>/settings": ADMIN_POST_REJECTED,
    "POST /admin/campaigns/<slug>/roster": ADMIN_POST_REJECTED,
    "GET /admin/roster-template.<fmt>": ADMIN_ONLY,
    "POST /admin/campaigns/<slug>/sample/settings": ADMIN_POST_REJECTED,
    "POST /admin/campaigns/<slug>/sample/draw": ADMIN_POST_REJECTED,
    # links already issued and neither option ticked: refused with a message, redirected
    "POST /admin/campaigns/<slug>/tokens": ADMIN_POST_DONE,
    # the campaign is open: refused with a message, redirected
    "POST /admin/campaigns/<slug>/contacts/purge": ADMIN_POST_DONE,
    # the letters of the live links, from their encrypted copies (audited as export.letters)
    "GET /admin/campaigns/<slug>/letters": ADMIN_ONLY,
    "GET /admin/campaigns/<slug>/letters.zip": ADMIN_ONLY,
    "POST /admin/campaigns/<slug>/jobs/letters": ADMIN_POST_DONE,  # the archive as a job
    "GET /admin/campaigns/<slug>/links": ADMIN_ONLY,
    # one household's new link (or refused for an answered one): redirected either way
    "POST /admin/campaigns/<slug>/households/<int:household_id>/reissue": ADMIN_POST_DONE,
    "POST /admin/campaigns/<slug>/letter-details": ADMIN_POST_DONE,  # empty details allowed
    # SMS waves: the page with the preview; an empty post (no confirmation) is rejected
    "GET /admin/campaigns/<slug>/sms": ADMIN_ONLY,
    "POST /admin/campaigns/<slug>/sms/waves": ADMIN_POST_REJECTED,
    "POST /admin/campaigns/<slug>/unit": ADMIN_POST_DONE,  # empty code: no region
    # the predecessor (year over year): an empty form is refused with a message, redirected
    "POST /admin/campaigns/<slug>/previous": ADMIN_POST_DONE,
}

# URL parameters taken from another scenario value than the one of the same name.
PARAMS = {
    "GET /s/<token>/receipt/<instance_id>": {"token": "answered_token"},
    "GET /c/<slug>/<group>/receipt/<instance_id>": {"instance_id": "open_instance_id"},
    "GET /entry/<slug>/forms/<int:form_id>/decide": {"form_id": "held_form_id"},
    "POST /entry/<slug>/forms/<int:form_id>/decide": {"form_id": "held_form_id"},
}

# Bodies that let the authorised role complete the action (rolled back afterwards).
BODIES = {
    "POST /admin/campaigns/<slug>/status": {"status": "closed"},
    "POST /admin/users/<int:user_id>/active": {"active": "0"},
    "POST /entry/<slug>/responses/<int:response_id>/delete": {"reason": "matrix test"},
    "POST /evaluate/<slug>/responses/<int:response_id>/exclusion": {"reason": "matrix test"},
    "POST /evaluate/<slug>/responses/<int:response_id>/reveal": {"reason": "matrix test"},
    "POST /evaluate/<slug>/responses/<int:response_id>/redaction": {"reason": "matrix test"},
    "POST /evaluate/<slug>/quality/decisions": {"flag": "too_fast", "reason": "matrix test",
                                                "exclude": "1"},
}


# --- unit-scoped roles (issue 23 item 1) ----------------------------------------------------
# Accounts granted a unit reach what lies below it. The scenario's campaign belongs to county
# 430903 of city 430900 (the city is the ``<code>`` of the roll-up routes); the "other
# county" accounts are granted county 430902 of the same city, worker A2 (the account the
# admin pages switch off) county 430903. Each role answers as the global role it is granted
# as (its column above), except on staff routes naming something outside its unit (the
# campaign or worker A2: ``<slug>``, ``<int:user_id>``; the city: ``<code>``), where a role
# the global one would let through gets 404, as for something that does not exist.
# role: (the column it answers as, the campaign in its unit, the city in its unit)
UNIT_ROLES = {
    "city_evaluator": ("evaluator", True, True),
    "county_admin": ("admin", True, False),
    "county_evaluator": ("evaluator", True, False),
    "other_county_evaluator": ("evaluator", False, False),
    "other_county_admin": ("admin", False, False),
    "other_county_worker": ("worker_a", False, False),
}
CAMPAIGN_PARAMS = ("<slug>", "<int:user_id>")
NOT_IN_UNIT = 404
# (route, role) whose status the rule above does not give, with why.
UNIT_EXCEPTIONS: dict[tuple[str, str], int] = {
    # an empty code would leave the campaign outside every county: refused, form re-shown
    ("POST /admin/campaigns/<slug>/unit", "county_admin"): 400,
    # no CSRF header: refused before the campaign is looked up (any slug alike, no oracle)
    ("POST /entry/<slug>/field/interviews", "other_county_worker"): 400,
    ("POST /entry/<slug>/field/contacts", "other_county_worker"): 400,
}


def unit_role_status(key: str, role: str) -> int:
    """The status ``role`` (one of UNIT_ROLES) gets on ``key``, by the rule above."""
    if (key, role) in UNIT_EXCEPTIONS:
        return UNIT_EXCEPTIONS[key, role]
    column, campaign_in_unit, city_in_unit = UNIT_ROLES[role]
    row = MATRIX[key]
    status = row[ROLES.index(column)]
    staff_route = row[0] in (302, 401)  # anonymous visitors: the login page, or 401
    if not staff_route or status in (401, 403):
        return status
    if "<int:job_id>" in key:  # the scenario's job is the global evaluator's: only its
        return NOT_IN_UNIT     # requester sees it, whatever the unit
    if "<code>" in key and not city_in_unit:
        return NOT_IN_UNIT
    if any(param in key for param in CAMPAIGN_PARAMS) and not campaign_in_unit:
        return NOT_IN_UNIT
    return status
