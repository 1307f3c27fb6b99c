"""Database models. Import from here; each module holds one area of the domain."""

from survey_app.models.audit import AuditEvent, AuditSeal
from survey_app.models.backcheck import BackcheckCase, BackcheckDraw, BackcheckTopup
from survey_app.models.base import (
    CampaignStatus,
    Disposition,
    HouseholdGroup,
    PaperFormStatus,
    ResponseMode,
    ResponseStatus,
    Role,
    as_loaded,
    as_utc,
    utcnow,
)
from survey_app.models.campaign import (
    Campaign,
    CampaignQuestionnaire,
    Community,
    Project,
    QuestionnaireVersion,
)
from survey_app.models.counts import (
    CategoryCount,
    CountChange,
    CountSnapshot,
    DriverCount,
    ListwiseSum,
    PairSum,
    RosterCount,
    ScaleCount,
)
from survey_app.models.household import AccessToken, Household, HouseholdPhone
from survey_app.models.job import BackgroundJob, JobStatus
from survey_app.models.outbox import (
    MessageStatus,
    OutboxMessage,
    SmsCallbackSignature,
    SmsWave,
)
from survey_app.models.paradata import InterviewParadata
from survey_app.models.region import Unit, UnitLevel
from survey_app.models.reporting import CampaignReport
from survey_app.models.response import (
    Answer,
    CommentRedaction,
    PaperEntry,
    PaperForm,
    Reconciliation,
    Response,
)
from survey_app.models.user import ApiToken, User
from survey_app.models.visit import Visit

__all__ = [
    "AccessToken",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "AuditSeal",
    "BackgroundJob",
    "BackcheckCase",
    "BackcheckDraw",
    "BackcheckTopup",
    "Campaign",
    "CampaignQuestionnaire",
    "CampaignReport",
    "CampaignStatus",
    "CategoryCount",
    "CommentRedaction",
    "Community",
    "CountChange",
    "CountSnapshot",
    "DriverCount",
    "Disposition",
    "Household",
    "HouseholdGroup",
    "HouseholdPhone",
    "MessageStatus",
    "OutboxMessage",
    "InterviewParadata",
    "JobStatus",
    "ListwiseSum",
    "PaperEntry",
    "PaperForm",
    "PaperFormStatus",
    "Project",
    "QuestionnaireVersion",
    "Reconciliation",
    "Response",
    "PairSum",
    "RosterCount",
    "ResponseMode",
    "ResponseStatus",
    "Role",
    "ScaleCount",
    "SmsCallbackSignature",
    "SmsWave",
    "Unit",
    "UnitLevel",
    "User",
    "Visit",
    "as_loaded",
    "as_utc",
    "utcnow",
]
