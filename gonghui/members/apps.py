from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.core import export_jobs, housekeeping, jobs, registry
        from gonghui.members import audit_labels, exports, imports
        from gonghui.members.dashboard import register_cards
        from gonghui.members.identity import mask_name
        from gonghui.members.permissions import GRANTS, LABELS, MemberPerm
        from gonghui.organizations.selectors import PickerPurpose, register_picker_purpose

        registry.permissions("members", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by(
            "members.member", lambda m: "%s（%s）" % (m.name_masked, m.member_no), only=("name", "member_no")
        )
        registry.describe_by(
            "members.consent",
            lambda c: "%s的%s授权" % (c.member.name_masked, c.get_purpose_display()),
            related=("member",),
        )
        registry.describe_by("members.joinapplication", lambda a: "入会申请：%s" % mask_name(a.name), only=("name",))
        registry.describe_by("members.transfer", lambda t: "转会：%s" % t.member.name_masked, related=("member",))
        registry.describe_by("members.importbatch", lambda b: "会员导入：%s" % b.file_name, only=("file_name",))
        nav = registry.NavItem
        registry.nav(nav("members", "会员管理", "person-vcard", "members:list", (MemberPerm.MEMBER_VIEW,), 20))
        registry.nav(nav("member_import", "会员导入", "upload", "members:import_list", (MemberPerm.MEMBER_IMPORT,), 30))
        registry.nav(
            nav(
                "join_applications",
                "入会申请",
                "person-plus",
                "members:application_list",
                (MemberPerm.MEMBER_EDIT,),
                40,
            )
        )
        transfer_perms = (MemberPerm.TRANSFER_SUBMIT, MemberPerm.TRANSFER_APPROVE)
        registry.nav(nav("transfers", "转会审批", "arrow-left-right", "members:transfer_list", transfer_perms, 50))
        # Transfers go to another union anywhere in the federation; imports stay in the sub-tree.
        register_picker_purpose(
            "transfer", PickerPurpose(MemberPerm.TRANSFER_SUBMIT, whole_federation=True, grassroots_only=True)
        )
        register_picker_purpose(
            "member_import", PickerPurpose(MemberPerm.MEMBER_IMPORT, whole_federation=False, grassroots_only=False)
        )
        registry.tile(registry.Tile("card", "会员卡", "person-vcard", "/h5/card/", 10))
        export_jobs.register_export(
            exports.MEMBERS_EXPORT,
            label="会员名册导出",
            perm=MemberPerm.MEMBER_VIEW,
            action="member.export",
            build=exports.members_export_plan,
        )
        export_jobs.register_export(
            exports.CARDS_EXPORT,
            label="制卡数据导出",
            perm=MemberPerm.MEMBER_EDIT,
            action="member.card_export",
            build=exports.cards_export_plan,
        )
        register_cards()
        housekeeping.register("member_import_uploads", "超时未确认的会员导入批次", imports.import_batches_expire)
        jobs.register_job_kind(
            imports.IMPORT_JOB,
            label="会员导入",
            run=imports.import_batch_job,
            perm=MemberPerm.MEMBER_IMPORT,
            stale_after=imports.stale_after_seconds,
            crash_message=imports.IMPORT_CRASHED,
            resumable=imports.import_job_resumable,
            on_change=imports.import_job_changed,
        )
