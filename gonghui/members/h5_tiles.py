"""The service tiles on the member's H5 home. A tile without a URL is a service not yet open
here and is shown greyed out as 即将开通."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    label: str
    icon: str
    url: str | None


TILES = (
    Tile("会员卡", "🪪", "/h5/card/"),
    Tile("我的券", "🎫", "/h5/coupons/"),
    Tile("体检报告", "🩺", "/h5/health/"),
    Tile("困难帮扶", "🤝", None),
    Tile("医疗互助", "🏥", None),
    Tile("诉求建议", "📮", None),
    Tile("服务阵地", "📍", None),
    Tile("竞赛培训", "🏆", None),
)
