"""The members app's permissions; `MembersConfig.ready()` declares them and grants them to roles."""


class MemberPerm:
    MEMBER_VIEW = "member.view"
    MEMBER_EDIT = "member.edit"
    MEMBER_IMPORT = "member.import"
    MEMBER_REVEAL_ID = "member.reveal_id"
    CARD_VERIFY = "member.card_verify"
    TRANSFER_SUBMIT = "transfer.submit"
    TRANSFER_APPROVE = "transfer.approve"


LABELS = {
    MemberPerm.MEMBER_VIEW: "查看会员",
    MemberPerm.MEMBER_EDIT: "编辑会员、审批入会",
    MemberPerm.MEMBER_IMPORT: "批量导入会员",
    MemberPerm.MEMBER_REVEAL_ID: "查看完整证件号码",
    MemberPerm.CARD_VERIFY: "核验会员码",
    MemberPerm.TRANSFER_SUBMIT: "发起会员转会",
    MemberPerm.TRANSFER_APPROVE: "审批会员转会",
}

GRANTS = {
    "admin": (
        MemberPerm.MEMBER_VIEW,
        MemberPerm.MEMBER_EDIT,
        MemberPerm.MEMBER_IMPORT,
        MemberPerm.MEMBER_REVEAL_ID,
        MemberPerm.TRANSFER_SUBMIT,
        MemberPerm.TRANSFER_APPROVE,
    ),
    "handler": (
        MemberPerm.MEMBER_VIEW,
        MemberPerm.MEMBER_EDIT,
        MemberPerm.MEMBER_IMPORT,
        MemberPerm.TRANSFER_SUBMIT,
    ),
    "reviewer": (MemberPerm.MEMBER_VIEW, MemberPerm.TRANSFER_APPROVE),
    "redeemer": (MemberPerm.CARD_VERIFY,),
    "health": (MemberPerm.MEMBER_VIEW,),
}
