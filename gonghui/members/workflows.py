"""The members domain's declared workflows (see `gonghui.core.workflow`). Deadlines are the
defaults until SLA rules become versioned policies."""

import datetime as dt

from gonghui.core.workflow import Transition, Workflow
from gonghui.members.models import ApplicationStatus, JoinApplication, Transfer, TransferStatus
from gonghui.members.permissions import MemberPerm

_SUBMITTER = "提交人不能审批自己提交的申请"

# 转会: approved out by the old union, then in by the new one; the submitter approves neither.
TRANSFER = Workflow(
    name="transfer",
    noun="该转会申请",
    model=Transfer,
    states=TransferStatus,
    transitions=(
        Transition(
            name="approve_out",
            label="批准转出",
            sources=(TransferStatus.PENDING_OUT,),
            target=TransferStatus.PENDING_IN,
            perm=MemberPerm.TRANSFER_APPROVE,
            on="from_org",
            forbid=("submitted_by",),
            forbid_message=_SUBMITTER,
        ),
        Transition(
            name="reject_out",
            label="驳回转出",
            sources=(TransferStatus.PENDING_OUT,),
            target=TransferStatus.REJECTED,
            perm=MemberPerm.TRANSFER_APPROVE,
            on="from_org",
            forbid=("submitted_by",),
            forbid_message=_SUBMITTER,
            reason_required=True,
        ),
        Transition(
            name="approve_in",
            label="批准转入",
            sources=(TransferStatus.PENDING_IN,),
            target=TransferStatus.COMPLETED,
            perm=MemberPerm.TRANSFER_APPROVE,
            on="to_org",
            forbid=("submitted_by",),
            forbid_message=_SUBMITTER,
        ),
        Transition(
            name="reject_in",
            label="驳回转入",
            sources=(TransferStatus.PENDING_IN,),
            target=TransferStatus.REJECTED,
            perm=MemberPerm.TRANSFER_APPROVE,
            on="to_org",
            forbid=("submitted_by",),
            forbid_message=_SUBMITTER,
            reason_required=True,
        ),
    ),
    deadlines={TransferStatus.PENDING_OUT: dt.timedelta(days=15), TransferStatus.PENDING_IN: dt.timedelta(days=15)},
)

# 网上申请入会: the applicant has no staff account, so the separation of duties is between two
# staff of the union: one checks the application against the applicant's unit (初审), another
# approves the admission. Declining needs a reason and one person (nobody is registered by it).
JOIN_APPLICATION = Workflow(
    name="join_application",
    noun="该入会申请",
    model=JoinApplication,
    states=ApplicationStatus,
    transitions=(
        Transition(
            name="check",
            label="初审",
            sources=(ApplicationStatus.PENDING,),
            target=ApplicationStatus.CHECKED,
            perm=MemberPerm.MEMBER_EDIT,
        ),
        Transition(
            name="approve",
            label="批准",
            sources=(ApplicationStatus.CHECKED,),
            target=ApplicationStatus.APPROVED,
            perm=MemberPerm.MEMBER_EDIT,
            forbid=("step:check",),
            forbid_message="初审人不能批准自己初审的申请，请由另一位工作人员批准入会",
        ),
        Transition(
            name="reject",
            label="不予批准",
            sources=(ApplicationStatus.PENDING, ApplicationStatus.CHECKED),
            target=ApplicationStatus.REJECTED,
            perm=MemberPerm.MEMBER_EDIT,
            reason_required=True,
        ),
    ),
    deadlines={ApplicationStatus.PENDING: dt.timedelta(days=15), ApplicationStatus.CHECKED: dt.timedelta(days=15)},
)
