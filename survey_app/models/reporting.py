"""What an evaluator writes into a campaign's documents beside the computed numbers.

One row per campaign, created on the first edit: the text of the indicator table's column
偏差原因分析及改进措施, the table's 一级指标 (the current 预算绩效 framework files 服务对象满意度
under 满意度指标; older forms under 效益指标), and the evaluation firm's own Word template of
the report section (None: the shipped one). Every change is an audit event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from survey_app.models.base import utcnow


class CampaignReport(SQLModel, table=True):
    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    deviation_note: str = Field(default="", sa_column=Column(Text, nullable=False,
                                                             server_default=""))
    first_level: str = Field(default="满意度指标", max_length=16)
    # The uploaded .docx (at most REPORT_TEMPLATE_MAX_BYTES); read only when a report is built.
    template: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    template_sha256: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
