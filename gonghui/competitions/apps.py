from typing import Any

from django.apps import AppConfig


class CompetitionsConfig(AppConfig):
    name = "gonghui.competitions"
    label = "competitions"
    verbose_name = "劳动竞赛"

    def ready(self) -> None:
        from gonghui.competitions import audit_labels, sections
        from gonghui.competitions.permissions import GRANTS, LABELS, CompetitionPerm
        from gonghui.core import registry

        registry.permissions("competitions", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("competitions.competition", lambda c: "竞赛：%s" % c.title, only=("title",))
        registry.describe_by("competitions.question", lambda q: "题目 #%s" % q.pk, only=("id",))
        registry.describe_by("competitions.quiz", lambda q: "测验：%s" % q.title, only=("title",))
        registry.describe_by("competitions.hazardreport", lambda r: "隐患报告 #%s" % r.pk, only=("id",))
        registry.describe_by("competitions.attempt", lambda a: "测验答卷 #%s" % a.pk, only=("id",))
        registry.describe_by("competitions.skillrecord", lambda s: "技术等级提升 #%s" % s.pk, only=("id",))
        registry.nav(
            registry.NavItem(
                "competitions",
                "劳动竞赛",
                "trophy",
                "competitions:list",
                (CompetitionPerm.VIEW, CompetitionPerm.BANK_VIEW),
                80,
            )
        )
        # Staff of roles that do not run competitions reach their judging page here; the
        # others find 我的评分 among the competition pages' tabs.
        registry.nav(
            registry.NavItem(
                "judging", "我的评分", "pencil-square", "competitions:judging", (CompetitionPerm.JUDGE,), 81
            )
        )
        registry.tile(registry.Tile("competitions", "竞赛答题", "trophy", "/h5/competitions/", 50))
        registry.seeder("competitions", order=70, run=_seed_demo, label="劳动竞赛与隐患排查题库")
        registry.section(
            registry.Section("competitions.skills", "members.member_detail", sections.member_skills, order=50)
        )


def _seed_demo(context: Any) -> None:
    from gonghui.competitions import demo

    demo.seed(rng=context.rng, stdout=context.stdout, today=context.today)
