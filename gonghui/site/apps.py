from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "gonghui.site"
    label = "site"
    verbose_name = "平台组装"

    def ready(self) -> None:
        from gonghui.core import registry

        registry.nav(registry.NavItem("dashboard", "工作台", "speedometer", "site:dashboard", (), 0))
        # The services the platform is still building, shown greyed out (即将开通) on the member
        # home until their app registers the real tile under the same key.
        for order, (key, label, icon) in enumerate(UPCOMING_SERVICES, start=40):
            registry.tile_placeholder(registry.Tile(key, label, icon, None, order))


UPCOMING_SERVICES = (
    ("relief", "困难帮扶", "house-heart"),
    ("mutual_aid", "医疗互助", "hospital"),
    ("suggestions", "诉求建议", "envelope-paper"),
    ("stations", "服务阵地", "geo-alt"),
    ("competitions", "竞赛培训", "trophy"),
)
