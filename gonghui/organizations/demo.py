"""A plausible province for the demo: 江苏省总工会 with three cities, their districts, street
and industry unions, and a few hundred grassroots unions of real-sounding enterprises."""

import random
from dataclasses import dataclass

from gonghui.core.identifiers import USCC_CHARS, uscc_check_char
from gonghui.organizations.models import Level, Organization, UnitType
from gonghui.organizations.services import organization_create

CITIES = {
    "苏州市": ("320500", {"姑苏区": "320508", "吴中区": "320506", "苏州工业园区": "320571", "昆山市": "320583"}),
    "南京市": ("320100", {"玄武区": "320102", "鼓楼区": "320106", "江宁区": "320115"}),
    "无锡市": ("320200", {"梁溪区": "320213", "滨湖区": "320211"}),
}
STREETS = ("街道总工会", "镇总工会")
STREET_NAMES = (
    "平江",
    "双塔",
    "金阊",
    "沧浪",
    "横塘",
    "越溪",
    "娄葑",
    "斜塘",
    "周市",
    "陆家",
    "新街口",
    "湖南路",
    "东山",
    "秣陵",
    "崇安",
    "蠡园",
)
INDUSTRY_UNIONS = ("快递物流行业工会联合会", "餐饮外卖行业工会联合会", "环卫行业工会联合会", "货运司机工会联合会")
BRANDS = (
    "恒力",
    "华芯",
    "东吴",
    "金鸡湖",
    "吴韵",
    "盛泽",
    "太湖",
    "金陵",
    "紫金",
    "锡山",
    "新城",
    "博远",
    "协鑫",
    "沙钢",
    "亨通",
    "永鼎",
    "远东",
    "中科",
    "天聚",
    "润泽",
    "万和",
    "鼎盛",
    "华辰",
    "立讯",
)
TRADES = (
    ("精密机械有限公司", UnitType.PRIVATE, "制造业", "factory"),
    ("电子科技有限公司", UnitType.FOREIGN, "制造业", "factory"),
    ("纺织有限公司", UnitType.PRIVATE, "制造业", "factory"),
    ("物流有限公司", UnitType.PRIVATE, "交通运输、仓储和邮政业", "logistics"),
    ("快递服务站", UnitType.PRIVATE, "交通运输、仓储和邮政业", "courier"),
    ("餐饮管理有限公司", UnitType.PRIVATE, "住宿和餐饮业", "delivery"),
    ("建筑工程有限公司", UnitType.STATE_OWNED, "建筑业", "construction"),
    ("医药有限公司", UnitType.STATE_OWNED, "制造业", "factory"),
    ("环境卫生管理所", UnitType.INSTITUTION, "水利、环境和公共设施管理业", "sanitation"),
    ("人民医院", UnitType.INSTITUTION, "卫生和社会工作", "hospital"),
    ("公交有限公司", UnitType.STATE_OWNED, "交通运输、仓储和邮政业", "transport"),
)


@dataclass
class DemoTree:
    province: Organization
    cities: dict[str, Organization]
    grassroots: list[tuple[Organization, str]]  # (union, trade kind)


def random_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc_check_char(body)


def build_tree(*, rng: random.Random, grassroots_per_street: int = 9) -> DemoTree:
    codes = iter(range(1, 1_000_000))

    def code(prefix: str) -> str:
        return f"{prefix}{next(codes):05d}"

    province = organization_create(
        actor=None, parent=None, code="JS0001", name="江苏省总工会", level=Level.PROVINCE, region_code="320000"
    )
    cities: dict[str, Organization] = {}
    grassroots: list[tuple[Organization, str]] = []
    for city_name, (city_region, districts) in CITIES.items():
        city = organization_create(
            actor=None,
            parent=province,
            code=code("C"),
            name=f"{city_name}总工会",
            level=Level.CITY,
            region_code=city_region,
        )
        cities[city_name] = city
        for district_name, region in districts.items():
            district = organization_create(
                actor=None,
                parent=city,
                code=code("D"),
                name=f"{district_name}总工会",
                level=Level.COUNTY,
                region_code=region,
            )
            streets = [
                organization_create(
                    actor=None,
                    parent=district,
                    code=code("S"),
                    name=f"{rng.choice(STREET_NAMES)}{rng.choice(STREETS)}",
                    level=Level.STREET,
                    region_code=region,
                )
                for _ in range(2)
            ]
            industry = organization_create(
                actor=None,
                parent=district,
                code=code("S"),
                name=f"{district_name}{rng.choice(INDUSTRY_UNIONS)}",
                level=Level.STREET,
                region_code=region,
            )
            for parent in [*streets, industry]:
                for _ in range(grassroots_per_street):
                    suffix, unit_type, industry_name, kind = rng.choice(TRADES)
                    unit = f"{city_name[:2]}{rng.choice(BRANDS)}{suffix}"
                    org = organization_create(
                        actor=None,
                        parent=parent,
                        code=code("G"),
                        name=f"{unit}工会",
                        level=Level.GRASSROOTS,
                        region_code=region,
                        unit_name=unit,
                        credit_code=random_uscc(rng, region),
                        unit_type=unit_type,
                        industry=industry_name,
                        address=f"{city_name}{district_name}{rng.choice(STREET_NAMES)}路{rng.randint(1, 999)}号",
                    )
                    grassroots.append((org, kind))
    return DemoTree(province=province, cities=cities, grassroots=grassroots)
