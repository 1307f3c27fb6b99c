"""Database models. Import from here; each module holds one area of the domain."""

from survey_app.models.audit import AuditEvent, AuditSeal
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
from survey_app.models.household import AccessToken, Household, HouseholdPhone
from survey_app.models.reporting import CampaignReport
from survey_app.models.response import Answer, PaperEntry, PaperForm, Reconciliation, Response
from survey_app.models.user import ApiToken, User

__all__ = [
    "AccessToken",
    "Answer",
    "ApiToken",
    "AuditEvent",
    "AuditSeal",
    "Campaign",
    "CampaignQuestionnaire",
    "CampaignReport",
    "CampaignStatus",
    "Community",
    "Disposition",
    "Household",
    "HouseholdGroup",
    "HouseholdPhone",
    "PaperEntry",
    "PaperForm",
    "PaperFormStatus",
    "Project",
    "QuestionnaireVersion",
    "Reconciliation",
    "Response",
    "ResponseMode",
    "ResponseStatus",
    "Role",
    "User",
    "as_loaded",
    "as_utc",
    "utcnow",
]
