from typing import Any

from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "gonghui.stations"
    label = "stations"
    verbose_name = "服务阵地"

    def ready(self) -> None:
        from gonghui.core import jobs, registry
        from gonghui.organizations.selectors import PickerPurpose, register_picker_purpose
        from gonghui.stations import audit_labels, h5_views, importing, services
        from gonghui.stations.dashboard import register_cards
        from gonghui.stations.permissions import GRANTS, LABELS, StationPerm

        registry.permissions("stations", LABELS)
        registry.grants(GRANTS)
        registry.audit_labels(audit_labels.ACTIONS, details=audit_labels.DETAILS)
        registry.describe_by("stations.station", lambda s: "服务阵地 %s %s" % (s.code, s.name), only=("code", "name"))
        registry.describe_by("stations.stationimport", lambda b: "服务阵地导入 %s" % b.filename, only=("filename",))
        registry.describe_by("stations.stationkind", lambda k: "阵地类型：%s" % k.name, only=("name",))
        registry.describe_by("stations.facility", lambda f: "阵地设施：%s" % f.name, only=("name",))
        registry.nav(registry.NavItem("stations", "服务阵地", "geo-alt", "stations:list", (StationPerm.VIEW,), 78))
        registry.tile(registry.Tile("stations", "服务阵地", "geo-alt", "/h5/stations/", 43))
        registry.section(registry.Section("stations.checkin", "members.h5_card", h5_views.card_entry, order=50))
        register_picker_purpose(
            services.PICKER, PickerPurpose(StationPerm.MANAGE, whole_federation=False, grassroots_only=False)
        )
        register_cards()
        registry.seeder("stations", order=70, run=_seed_demo, label="服务阵地")
        # An import checks and writes the whole file in one transaction: a run whose worker
        # died wrote nothing and runs again from the kept file (which is dropped once read).
        jobs.register_job_kind(
            services.IMPORT_JOB,
            label="服务阵地导入",
            run=importing.import_job,
            perm=StationPerm.MANAGE,
            resumable=services.import_resumable,
            on_expire=services.import_expire,
        )


def _seed_demo(context: Any) -> None:
    from gonghui.stations import demo

    demo.seed(rng=context.rng, stdout=context.stdout, today=context.today)
