import base64

import pytest
from cryptography.exceptions import InvalidTag

from gonghui.core import crypto

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


@pytest.fixture(autouse=True)
def _fresh_keys(settings):  # type: ignore[no-untyped-def]
    settings.PII_KEYS = f"k1:{KEY_A}"
    settings.PII_ACTIVE_KEY_ID = "k1"
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


def test_round_trip_and_fresh_nonce_each_time() -> None:
    one = crypto.encrypt("320508199001011234", purpose="member.id_number")
    two = crypto.encrypt("320508199001011234", purpose="member.id_number")
    assert one != two
    assert one.startswith("v1:k1:")
    assert crypto.decrypt(one, purpose="member.id_number") == "320508199001011234"


def test_ciphertext_is_bound_to_its_purpose() -> None:
    token = crypto.encrypt("6222020000000000", purpose="member.bank")
    with pytest.raises(InvalidTag):
        crypto.decrypt(token, purpose="member.id_number")


def test_rotation_keeps_old_values_readable(settings) -> None:  # type: ignore[no-untyped-def]
    old = crypto.encrypt("secret", purpose="p")
    settings.PII_KEYS = f"k1:{KEY_A},k2:{KEY_B}"
    settings.PII_ACTIVE_KEY_ID = "k2"
    crypto.reset_key_cache()
    new = crypto.encrypt("secret", purpose="p")
    assert crypto.key_id_of(new) == "k2"
    assert crypto.decrypt(old, purpose="p") == crypto.decrypt(new, purpose="p") == "secret"


def test_blind_index_is_keyed_deterministic_and_case_insensitive() -> None:
    a = crypto.blind_index("11010519491231002x", purpose="member.id_number")
    assert a == crypto.blind_index("11010519491231002X", purpose="member.id_number")
    assert a != crypto.blind_index("11010519491231002X", purpose="other")
    assert len(a) == 64


def test_masking() -> None:
    assert crypto.mask_middle("320402199001011234") == "3204**********1234"
    assert crypto.mask_phone("13912345678") == "139****5678"


@pytest.mark.django_db
def test_rotate_command_rewrites_member_ids_under_the_new_key(settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    from gonghui.members.identity import decrypt_id_number
    from gonghui.members.models import Member
    from gonghui.site.testing import build_world

    world = build_world()
    before = decrypt_id_number(Member.objects.get(pk=world.member_a.pk).id_number_encrypted)
    settings.PII_KEYS = f"k1:{KEY_A},k2:{KEY_B}"
    settings.PII_ACTIVE_KEY_ID = "k2"
    crypto.reset_key_cache()
    call_command("rotate_pii_keys")
    stored = Member.objects.get(pk=world.member_a.pk).id_number_encrypted
    assert crypto.key_id_of(stored) == "k2"
    settings.PII_KEYS = f"k2:{KEY_B}"
    crypto.reset_key_cache()
    assert decrypt_id_number(stored) == before
    assert {crypto.key_id_of(v) for v in Member.objects.values_list("id_number_encrypted", flat=True)} == {"k2"}
