"""The 院务公开 scrubber masks what a submitter may type: phones, ID numbers, member and card
numbers, e-mail addresses and names — and leaves ordinary text alone."""

import pytest

from gonghui.suggestions.scrub import MASK, scrub


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("联系电话 13912345678", "13912345678"),
        ("电话139-1234-5678", "139-1234-5678"),
        ("+86 139 1234 5678 请回电", "139 1234 5678"),
        ("座机 0512-65231234", "65231234"),
        ("身份证 32050819900101123X", "32050819900101123X"),
        ("身份证320508199001011234。", "320508199001011234"),
        ("会员编号 HY82367076174190", "82367076174190"),
        ("卡号6228480402564890018", "6228480402564890018"),
        ("工号 20231187", "20231187"),
        ("邮箱 zhang.san@example.com", "zhang.san@example.com"),
        ("李师傅反映多次", "李师傅"),
        ("找王主任处理", "王主任"),
        ("我叫王建国，在二车间", "王建国"),
    ],
)
def test_personal_data_is_masked(text: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out
    assert MASK in out


def test_known_names_are_masked_wherever_they_appear() -> None:
    out = scrub("张小红建议食堂增加面食，张小红是夜班护士", names=["张小红"])
    assert "张小红" not in out and out.count(MASK) == 2


@pytest.mark.parametrize(
    "text", ["希望食堂晚餐增加面食", "二号楼更衣室热水时有时无", "2025年3月上线", "建议错峰开放地下车库"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text
