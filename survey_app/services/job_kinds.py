"""What each kind of background job produces (``services.job_runner.run_job`` runs them).

A producer gets the job's plain copy, a read session and ``progress(done, total)``, and
returns the download's name, the file's extension and the file's bytes in chunks. Its
output depends on the job's row and the data only: the runner fixes what would vary
between two runs (zip entry times), so a retried job writes the same bytes.

Exports and reports anchored the snapshot of what they were asked for in the audit chain
when they were requested; a producer that finds other data (responses changed meanwhile)
fails with ``snapshot_changed`` rather than deliver a file the chain does not describe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from survey_app.models import Campaign
from survey_app.services.formula_safety import neutralise_row
from survey_app.services.job_runner import JobContext, JobSpec, Producer
from survey_app.services.score_filters import ScoreFilters

Progress = Callable[[int, int], None]


class SnapshotChanged(RuntimeError):
    """The counted data differ from the snapshot anchored when the job was requested."""


def _campaign(spec: JobSpec, session: Session) -> Campaign:
    return session.get(Campaign, spec.campaign_id)


def produce_export(spec: JobSpec, context: JobContext) -> tuple[str, str, Iterator[bytes]]:
    """A de-identified export (``params``: ``format``, ``filters``, ``snapshot``)."""
    from survey_app.services import counted_data, exports

    session, progress = context.session, context.progress
    campaign = _campaign(spec, session)
    fmt = spec.params["format"]
    filters = ScoreFilters.from_dict(spec.params.get("filters") or {})
    anchored = spec.params.get("snapshot")
    if anchored and counted_data.counted_snapshot(campaign, filters,
                                                  session=session) != anchored:
        raise SnapshotChanged(spec.id)
    chunks = exports.export_chunks(campaign, fmt, session=session, filters=filters,
                                   progress=progress)
    return exports.filename(campaign, fmt), "." + exports.EXTENSIONS[fmt], chunks


def produce_report(spec: JobSpec, context: JobContext) -> tuple[str, str, Iterator[bytes]]:
    """The Word section (``params``: ``filters``, ``snapshot``, ``chain_head``)."""
    from survey_app.services import report, scores

    session, progress = context.session, context.progress
    campaign = _campaign(spec, session)
    filters = ScoreFilters.from_dict(spec.params.get("filters") or {})
    progress(0, 2)
    doc = scores.scores_document(campaign, filters, session=session)
    if spec.params.get("snapshot") and doc.snapshot != spec.params["snapshot"]:
        raise SnapshotChanged(spec.id)
    progress(1, 2)
    data = report.build_report(campaign, doc, session=session,
                               chain_head=spec.params.get("chain_head"))
    return f"{campaign.slug}-report.docx", ".docx", iter([data])


def produce_letters(spec: JobSpec, context: JobContext) -> tuple[str, str, Iterator[bytes]]:
    """The letters archive of the selected live links (``params``: ``base_url``,
    ``lan_ok``, and the selection ``community_id``, ``household_id``, ``since``)."""
    from datetime import datetime

    from survey_app.services import letters, public_address, tokens

    session, progress = context.session, context.progress
    campaign = _campaign(spec, session)
    params = spec.params
    since = datetime.fromisoformat(params["since"]) if params.get("since") else None
    progress(0, 2)
    links = tokens.live_links(campaign, session=session, community_id=params.get("community_id"),
                              household_id=params.get("household_id"), since=since)
    progress(1, 2)
    problems = public_address.check_public_address(params["base_url"],
                                                   lan_ok=params.get("lan_ok", False))
    archive = letters.letters_zip(campaign, links.printable, session=session,
                                  base_url=params["base_url"], problems=problems)
    return f"{campaign.slug}-letters.zip", ".zip", iter([archive])


def produce_roster(spec: JobSpec, context: JobContext) -> tuple[str, str, Iterator[bytes]]:
    """A large roster import (``params``: ``filename``, ``columns``; the file sealed beside
    the job, ``job_uploads``). All or nothing, in one write transaction that also records
    the job's ``roster.import_job`` event, so a retry after a commit the worker did not live
    to report finds it and imports nothing twice. The result is a CSV report: the counts,
    or every problem found (nothing imported)."""
    from survey_app.models import AuditEvent, User
    from survey_app.services import audit, job_uploads, roster, roster_files

    def imported(session: Session) -> AuditEvent | None:
        return session.exec(select(AuditEvent).where(
            AuditEvent.action == "roster.import_job", AuditEvent.object_type == "job",
            AuditEvent.object_id == str(spec.id))).first()

    progress = context.progress
    progress(0, 3)
    rows, lines = [], [["result", "households", "row", "column", "problem"]]
    if imported(context.session) is None:  # else the sealed upload may be gone already
        data = job_uploads.load(context.files_dir, spec.id,
                                secret=context.config["CONTACT_KEY"])
        try:
            rows = roster_files.read_roster_file(
                spec.params["filename"], data,
                columns=roster_files.parse_column_mapping(spec.params.get("columns") or ""))
        except roster.RosterImportError as exc:
            lines += [["refused", "", p.row, p.column, p.message] for p in exc.problems]
    progress(1, 3)
    with context.write() as session:
        done = imported(session)
        if len(lines) > 1:
            pass  # the file could not be read: nothing to import
        elif done is not None:
            lines.append(["imported", done.details.get("households", ""), "", "", ""])
        else:
            campaign = _campaign(spec, session)
            try:
                result = roster.import_roster(
                    campaign, rows, session=session, pii_key=context.config["PII_KEY"],
                    contact_key=context.config["CONTACT_KEY"],
                    actor=session.get(User, spec.params["actor_id"]))
            except roster.RosterImportError as exc:
                lines += [["refused", "", p.row, p.column, p.message] for p in exc.problems]
            else:
                audit.record("roster.import_job", "job", spec.id, session=session,
                             campaign_id=campaign.id,
                             details={"households": result.households})
                lines.append(["imported", result.households, "", "", ""])
    progress(2, 3)
    job_uploads.remove(context.files_dir, spec.id)
    buffer = io.StringIO()
    # The file's own headers and values come back in the problems: opened in Excel or WPS,
    # a header "=HYPERLINK(...)" must stay text.
    csv.writer(buffer, lineterminator="\r\n").writerows(map(neutralise_row, lines))
    report = "\ufeff".encode() + buffer.getvalue().encode()
    return "roster-import-report.csv", ".csv", iter([report])


@dataclass(frozen=True)
class RosterReport:
    """What a roster job's report says: households imported, or every problem (then
    ``households`` is None and nothing was imported)."""

    households: int | None
    problems: tuple


def read_roster_report(path: Path) -> RosterReport:
    """Read back the report :func:`produce_roster` wrote (for the campaign page)."""
    from survey_app.services.roster import RowProblem

    lines = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))[1:]
    imported = [line for line in lines if line[0] == "imported"]
    if imported:
        return RosterReport(int(imported[0][1]), ())
    return RosterReport(None, tuple(
        RowProblem(row=int(line[2]) if line[2].isdigit() else line[2], column=line[3],
                   message=line[4]) for line in lines if line[0] == "refused"))


PRODUCERS: dict[str, Producer] = {"export": produce_export, "report": produce_report,
                                  "letters": produce_letters, "roster": produce_roster}
