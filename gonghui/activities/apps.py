from typing import Any

from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "gonghui.activities"
    label = "activities"
    verbose_name = "职工夜校与活动"

    def ready(self) -> None:
        from gonghui.activities import audit_labels
        from gonghui.activities.permissions import GRANTS, LABELS, ActivityPerm
        from gonghui.core import registry
        from gonghui.organizations.selectors import PickerPurpose, register_picker_purpose

        registry.permissions("activities", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("activities.trainingplan", lambda p: "培训计划：%s" % p.name, only=("name",))
        registry.describe_by("activities.course", lambda c: "培训班次：%s" % c.name, only=("name",))
        registry.describe_by("activities.activity", lambda a: "活动：%s" % a.title, only=("title",))
        registry.describe_by("activities.place", lambda p: "报名 #%s" % p.seq, only=("seq",))
        registry.describe_by("activities.attendance", lambda a: "签到记录 #%s" % a.pk)
        registry.nav(
            registry.NavItem("night_school", "职工夜校", "mortarboard", "activities:plans", (ActivityPerm.VIEW,), 80)
        )
        registry.nav(
            registry.NavItem(
                "activities", "活动报名", "calendar-event", "activities:activities", (ActivityPerm.VIEW,), 81
            )
        )
        register_picker_purpose(
            "activities", PickerPurpose(ActivityPerm.MANAGE, whole_federation=False, grassroots_only=False)
        )
        registry.tile(registry.Tile("activities", "夜校活动", "mortarboard", "/h5/activities/", 46))
        registry.seeder("activities", order=70, run=_seed_demo, label="职工夜校与活动")


def _seed_demo(context: Any) -> None:
    from gonghui.activities import demo

    demo.seed(rng=context.rng, stdout=context.stdout, today=context.today)
