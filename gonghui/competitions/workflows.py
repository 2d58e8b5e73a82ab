"""Declared workflows (see `gonghui.core.workflow`): a competition's 立项 is reviewed by the
organisation above the applicant (`review_org`), never by whoever applied; an approved
competition is started and finished by its organiser. A hazard report is accepted into the
bank (as a question) or declined by a reviewer."""

from gonghui.competitions.models import Competition, CompetitionStatus, HazardReport, ReportStatus
from gonghui.competitions.permissions import CompetitionPerm
from gonghui.core.workflow import Transition, Workflow

S = CompetitionStatus

COMPETITION = Workflow(
    name="competition",
    noun="该竞赛",
    model=Competition,
    states=CompetitionStatus,
    transitions=(
        Transition(
            "approve",
            "批准立项",
            (S.SUBMITTED,),
            S.APPROVED,
            CompetitionPerm.REVIEW,
            on="review_org",
            forbid=("submitted_by",),
            forbid_message="立项申报人不能审核自己的申报，请由上级工会的审核人办理",
        ),
        Transition(
            "reject",
            "不予立项",
            (S.SUBMITTED,),
            S.REJECTED,
            CompetitionPerm.REVIEW,
            on="review_org",
            forbid=("submitted_by",),
            forbid_message="立项申报人不能审核自己的申报，请由上级工会的审核人办理",
            reason_required=True,
        ),
        Transition("start", "开始竞赛", (S.APPROVED,), S.RUNNING, CompetitionPerm.MANAGE),
        Transition("finish", "结束竞赛", (S.RUNNING,), S.FINISHED, CompetitionPerm.MANAGE),
    ),
)

R = ReportStatus

REPORT = Workflow(
    name="hazard_report",
    noun="该隐患报告",
    model=HazardReport,
    states=ReportStatus,
    transitions=(
        Transition("accept", "审核入库", (R.SUBMITTED,), R.ACCEPTED, CompetitionPerm.BANK_REVIEW),
        Transition("reject", "不予采用", (R.SUBMITTED,), R.REJECTED, CompetitionPerm.BANK_REVIEW, reason_required=True),
    ),
)
