"""The relief domain's declared workflows (see `gonghui.core.workflow`).

退档: staff of the file's union open a public notice (公示, reason required); once the notice has
run its 5 working days, the parent organisation approves (or refuses) leaving the file — never
the person who opened the notice; then 6 months of follow-up. A family that falls back is filed
again (重新建档) from either after-state."""

from gonghui.core.workflow import Transition, Workflow
from gonghui.organizations.policies import policy_for
from gonghui.relief.models import CaseStatus, FileStatus, HardshipFile, ReliefCase
from gonghui.relief.permissions import ReliefPerm
from gonghui.relief.policies import APPROVAL_LIMITS, limits_by_level

WITHDRAWAL = Workflow(
    name="relief_file",
    noun="该困难职工档案",
    model=HardshipFile,
    states=FileStatus,
    transitions=(
        Transition(
            name="notice",
            label="发起退档公示",
            sources=(FileStatus.ACTIVE,),
            target=FileStatus.NOTICE,
            perm=ReliefPerm.MANAGE,
            reason_required=True,
        ),
        Transition(
            name="withdraw",
            label="批准退档",
            sources=(FileStatus.NOTICE,),
            target=FileStatus.WITHDRAWN,
            perm=ReliefPerm.APPROVE,
            on="approving_organization",
            forbid=("step:notice",),
            forbid_message="不能审批自己发起的退档公示，请由上级工会的另一位审核人审批",
        ),
        Transition(
            name="keep",
            label="驳回退档",
            sources=(FileStatus.NOTICE,),
            target=FileStatus.ACTIVE,
            perm=ReliefPerm.APPROVE,
            on="approving_organization",
            forbid=("step:notice",),
            forbid_message="不能审批自己发起的退档公示，请由上级工会的另一位审核人审批",
            reason_required=True,
        ),
        Transition(
            name="end_follow_up",
            label="结束跟踪",
            sources=(FileStatus.WITHDRAWN,),
            target=FileStatus.ENDED,
            perm=ReliefPerm.MANAGE,
        ),
        Transition(
            name="refile",
            label="重新建档",
            sources=(FileStatus.WITHDRAWN, FileStatus.ENDED),
            target=FileStatus.ACTIVE,
            perm=ReliefPerm.MANAGE,
            reason_required=True,
        ),
    ),
)


def _limits(case: ReliefCase) -> dict[int, int]:
    """The approval limits in force for the case's union (read at the moment of approval)."""
    return limits_by_level(policy_for(kind=APPROVAL_LIMITS, organization=case.organization).body)


_NOT_SUBMITTER = "不能审批自己提交的救助申请，请由另一位工作人员办理"

# 临时救助 / 大病救助: review → approval within the approver's level limit (above it the decision
# goes up a level) → disbursement. A fast-track case is approved straight from submission.
CASE = Workflow(
    name="relief_case",
    noun="该救助申请",
    model=ReliefCase,
    states=CaseStatus,
    transitions=(
        Transition(
            name="review",
            label="审核通过",
            sources=(CaseStatus.SUBMITTED,),
            target=CaseStatus.REVIEWED,
            perm=ReliefPerm.MANAGE,
            forbid=("submitted_by",),
            forbid_message="不能审核自己提交的救助申请，请由另一位工作人员审核",
        ),
        Transition(
            name="approve",
            label="批准",
            sources=(CaseStatus.REVIEWED, CaseStatus.ESCALATED),
            target=CaseStatus.APPROVED,
            perm=ReliefPerm.APPROVE,
            forbid=("submitted_by",),
            forbid_message=_NOT_SUBMITTER,
            limits=_limits,
            escalate_to=CaseStatus.ESCALATED,
        ),
        Transition(
            name="approve_urgent",
            label="先行批准",
            sources=(CaseStatus.SUBMITTED,),
            target=CaseStatus.APPROVED,
            perm=ReliefPerm.APPROVE,
            forbid=("submitted_by",),
            forbid_message=_NOT_SUBMITTER,
            limits=_limits,
            escalate_to=CaseStatus.ESCALATED,
        ),
        Transition(
            name="pay",
            label="发放",
            sources=(CaseStatus.APPROVED,),
            target=CaseStatus.PAID,
            perm=ReliefPerm.MANAGE,
            forbid=("step:approve", "step:approve_urgent"),
            forbid_message="批准与发放须由不同的工作人员办理",
        ),
        Transition(
            name="reject",
            label="不予救助",
            sources=(CaseStatus.SUBMITTED, CaseStatus.REVIEWED, CaseStatus.ESCALATED),
            target=CaseStatus.REJECTED,
            perm=ReliefPerm.APPROVE,
            forbid=("submitted_by",),
            forbid_message=_NOT_SUBMITTER,
            reason_required=True,
        ),
    ),
)
