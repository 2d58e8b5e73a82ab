"""The benefits domain's declared workflow (see `gonghui.core.workflow`)."""

from gonghui.benefits.models import Campaign, CampaignStatus
from gonghui.benefits.permissions import BenefitPerm
from gonghui.core.workflow import Transition, Workflow

# 审核发布: a draft is published by a reviewer who neither created nor last edited it.
CAMPAIGN = Workflow(
    name="campaign",
    noun="该活动",
    model=Campaign,
    states=CampaignStatus,
    transitions=(
        Transition(
            name="publish",
            label="发布",
            sources=(CampaignStatus.DRAFT,),
            target=CampaignStatus.PUBLISHED,
            perm=BenefitPerm.CAMPAIGN_PUBLISH,
            forbid=("created_by", "updated_by"),
            forbid_message="不能发布自己创建或修改的活动，请由另一位审核人发布",
        ),
    ),
)
