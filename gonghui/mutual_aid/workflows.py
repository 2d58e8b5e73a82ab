"""The claim (结报) workflow. 初审 adjudicates the stay and commits its benefit against the
member's period allowance; 审批 is taken by neither the submitter nor the reviewer; 财务 then
records the payout. A rejection needs a reason; an appeal re-opens a rejected claim for 初审:
申诉重审 by staff, 会员申诉 by the member on H5 (the workflow's applicant)."""

from typing import Any

from gonghui.core.workflow import Transition, Workflow
from gonghui.mutual_aid.models import Claim, ClaimStatus
from gonghui.mutual_aid.permissions import AidPerm

_SOD = "提交人和初审人不能审批同一结报"


def is_claimant(claim: Claim, actor: Any, proof: str) -> bool:
    """The applicant of a claim is the member whose stay it is, signed in with their account."""
    user_id = getattr(actor, "pk", None)
    return user_id is not None and claim.member.user_id == user_id


CLAIM = Workflow(
    name="mutual_aid_claim",
    noun="该结报",
    model=Claim,
    states=ClaimStatus,
    applicant=is_claimant,
    applicant_label="会员",
    transitions=(
        Transition(
            name="review",
            label="初审并核算",
            sources=(ClaimStatus.SUBMITTED,),
            target=ClaimStatus.REVIEWED,
            perm=AidPerm.CLAIM_HANDLE,
        ),
        Transition(
            name="approve",
            label="审批通过",
            sources=(ClaimStatus.REVIEWED,),
            target=ClaimStatus.APPROVED,
            perm=AidPerm.CLAIM_APPROVE,
            forbid=("submitted_by", "step:review"),
            forbid_message=_SOD,
        ),
        Transition(
            name="pay",
            label="登记支付",
            sources=(ClaimStatus.APPROVED,),
            target=ClaimStatus.PAID,
            perm=AidPerm.CLAIM_PAY,
        ),
        Transition(
            name="reject",
            label="初审驳回",
            sources=(ClaimStatus.SUBMITTED,),
            target=ClaimStatus.REJECTED,
            perm=AidPerm.CLAIM_HANDLE,
            reason_required=True,
        ),
        Transition(
            name="decline",
            label="审批驳回",
            sources=(ClaimStatus.REVIEWED,),
            target=ClaimStatus.REJECTED,
            perm=AidPerm.CLAIM_APPROVE,
            forbid=("submitted_by", "step:review"),
            forbid_message=_SOD,
            reason_required=True,
        ),
        Transition(
            name="appeal",
            label="申诉重审",
            sources=(ClaimStatus.REJECTED,),
            target=ClaimStatus.SUBMITTED,
            perm=AidPerm.CLAIM_HANDLE,
            reason_required=True,
        ),
        Transition(
            name="member_appeal",
            label="会员申诉",
            sources=(ClaimStatus.REJECTED,),
            target=ClaimStatus.SUBMITTED,
            by_applicant=True,
            reason_required=True,
        ),
    ),
)
