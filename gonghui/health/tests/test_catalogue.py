"""The reviewed catalogue: its data holds together, a new release retires changed intervals
while stored results keep the ones they were judged by, and a broken file is refused."""

import copy
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gonghui.health import services
from gonghui.health.catalogue import (
    CatalogueError,
    current_catalogue,
    forget_catalogue,
    read_catalogue_file,
    validate_catalogue_data,
)
from gonghui.health.models import Category, Indicator, ReferenceInterval, Result
from gonghui.health.tests.conftest import id_of
from gonghui.site.testing import World

REQUIRED = {
    "blood_count": {"WBC", "RBC", "HGB", "HCT", "PLT", "NEUT", "LYMPH"},
    "liver": {"ALT", "AST", "GGT", "ALP", "TBIL", "TP", "ALB"},
    "kidney": {"UREA", "CREA", "UA"},
    "glucose": {"GLU", "HBA1C"},
    "lipids": {"TC", "TG", "HDL", "LDL"},
    "electrolytes": {"K", "NA", "CL", "CA"},
    "thyroid": {"TSH"},
    "vitals": {"SBP", "DBP", "BMI", "WAIST"},
}


def test_catalogue_file_is_complete_and_reviewed() -> None:
    data = read_catalogue_file()
    by_code = {item["code"]: item for item in data["indicators"]}
    for category, codes in REQUIRED.items():
        assert codes <= {c for c, i in by_code.items() if i["category"] == category}, category
    assert {i["category"] for i in data["indicators"]} <= set(Category.values)
    assert len({i["loinc"] for i in data["indicators"]}) == len(data["indicators"])
    for item in data["indicators"]:
        assert item["explanation"], item["code"]
        for interval in item["intervals"]:
            assert interval["source"], item["code"]
            if interval.get("low") not in (None, "0"):  # a lower limit of 0 can never be undercut
                assert item["advice_low"], "%s: can be low but has no advice" % item["code"]
            if interval.get("high") is not None:
                assert item["advice_high"], "%s: can be high but has no advice" % item["code"]


def _broken(change) -> dict:  # type: ignore[no-untyped-def,type-arg]
    data = copy.deepcopy(read_catalogue_file())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["indicators"][1]["codes"].update({"WBC": ["*"]}), "code 'WBC' names both WBC and RBC"),
        (
            lambda d: d["indicators"][0]["codes"].update({"6690-2": ["mg/dL"]}),
            "WBC: code 6690-2 allows unknown unit mg/dL",
        ),
        (
            lambda d: d["indicators"][0]["intervals"][0].update({"source": "某网站"}),
            "WBC: interval source '某网站' is not a listed source",
        ),
        (lambda d: d["indicators"][0].update({"unit": "mmol/L"}), "WBC: canonical unit missing from units"),
    ],
)
def test_broken_catalogues_are_refused(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CatalogueError) as excinfo:
        validate_catalogue_data(_broken(change))
    assert str(excinfo.value) == message


@pytest.mark.django_db
def test_a_new_release_retires_changed_intervals(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = ("身份证号,体检日期,项目代码,结果,单位\n%s,2025-05-20,GLU,6.05,mmol/L\n" % id_of(world.member_a)).encode()
    batch = services.import_batch_create(
        actor=world.staff_a, organization=world.union_a, fmt="csv", filename="a.csv", content=csv, enqueue=False
    )
    services.import_batch_run(batch_id=batch.pk)
    before = Result.objects.get()
    assert before.flag == "normal"
    old_interval = before.interval

    out = io.StringIO()
    call_command("health_catalogue_load", stdout=out)
    assert out.getvalue().strip() == "already loaded catalogue 2026.2 (49 indicators)"

    def lower_glucose_cut(data: dict) -> None:  # type: ignore[type-arg]
        data["version"] = "2026.3"
        glu = next(i for i in data["indicators"] if i["code"] == "GLU")
        glu["intervals"][0]["high"] = "6.0"

    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(_broken(lower_glucose_cut), ensure_ascii=False), encoding="utf-8")
    call_command("health_catalogue_load", str(path), stdout=io.StringIO())
    forget_catalogue()
    catalogue = current_catalogue()
    assert catalogue.version == "2026.3"
    interval = catalogue.by_code["GLU"].interval_for("M", 40)
    assert interval is not None and str(interval.high) == "6.0000"
    old_interval.refresh_from_db()
    assert old_interval.retired is True
    before.refresh_from_db()
    assert (before.flag, before.interval_id) == ("normal", old_interval.pk)  # judged by the old release
    unchanged = ReferenceInterval.objects.filter(indicator__code="WBC")
    assert unchanged.count() == 1 and unchanged.get().retired is False
    assert Indicator.objects.get(code="GLU").release.version == "2026.3"


def test_a_broken_file_is_refused_by_the_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "catalogue.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("health_catalogue_load", str(path), stdout=io.StringIO())
