"""The service tiles on the member's H5 home. `icon` names a glyph of the vendored Bootstrap
Icons font (`bi-<icon>`, static/vendor/bootstrap-icons-1.13.2), which renders the same in every
browser, unlike emoji that need an emoji font. A tile without a URL is a service not yet open
here and is shown greyed out as 即将开通, not as a link."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Tile:
    label: str
    icon: str
    url: str | None


TILES = (
    Tile("会员卡", "person-vcard", "/h5/card/"),
    Tile("我的券", "ticket-perforated", "/h5/coupons/"),
    Tile("体检报告", "heart-pulse", "/h5/health/"),
    Tile("困难帮扶", "house-heart", None),
    Tile("医疗互助", "hospital", None),
    Tile("诉求建议", "envelope-paper", None),
    Tile("服务阵地", "geo-alt", None),
    Tile("竞赛培训", "trophy", None),
)
