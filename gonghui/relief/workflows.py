"""The relief domain's declared workflows (see `gonghui.core.workflow`).

退档: staff of the file's union open a public notice (公示, reason required); once the notice has
run its 5 working days, the parent organisation approves (or refuses) leaving the file — never
the person who opened the notice; then 6 months of follow-up. A family that falls back is filed
again (重新建档) from either after-state."""

from gonghui.core.workflow import Transition, Workflow
from gonghui.relief.models import FileStatus, HardshipFile
from gonghui.relief.permissions import ReliefPerm

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
