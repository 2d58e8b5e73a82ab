"""Throw-away data for benchmarks: an organisation pair, members in bulk (with or without a
user), and signed-in sessions for them, so a benchmark drives the real pages over HTTP."""

import datetime as dt
import hashlib
import secrets
import time

from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from gonghui.accounts.middleware import SESSION_LAST_SEEN
from gonghui.accounts.models import User
from gonghui.core.identifiers import make_resident_id
from gonghui.members.identity import identity_from_raw, new_card_no, new_member_no
from gonghui.members.models import Member
from gonghui.organizations.models import Level, Organization
from gonghui.organizations.services import organization_create


def bench_organization(tag: str) -> Organization:
    root = organization_create(
        actor=None,
        parent=None,
        code="BENCH-%s" % tag,
        name="压测总工会%s" % tag,
        level=Level.PROVINCE,
        region_code="320000",
    )
    return organization_create(
        actor=None,
        parent=root,
        code="BENCH-%s-1" % tag,
        name="压测基层工会%s" % tag,
        level=Level.GRASSROOTS,
        region_code="320508",
    )


def bulk_members(org: Organization, tag: str, count: int, *, with_users: bool) -> list[Member]:
    users: list[User] = []
    if with_users:
        users = [
            User(username="bench_%s_%06d" % (tag, i), password=make_password(None), display_name="压测会员")
            for i in range(count)
        ]
        users = User.objects.bulk_create(users, batch_size=2000)
    birth = dt.date(1975, 1, 1)
    members = []
    for i in range(count):
        identity = identity_from_raw(make_resident_id("320508", birth + dt.timedelta(days=i % 9000), i % 997, "F"))
        members.append(
            Member(
                organization=org,
                user=users[i] if with_users else None,
                member_no=new_member_no(),
                card_no=new_card_no(),
                name="压测会员%d" % i,
                sex="F",
                birth_date=identity.resident.birth_date,
                id_number_encrypted=identity.encrypted,
                id_blind=hashlib.sha256(b"bench-%s-%d" % (tag.encode(), i)).hexdigest(),  # clear of real members
                id_masked=identity.masked,
                joined_on=dt.date(2020, 1, 1),
            )
        )
    return Member.objects.bulk_create(members, batch_size=2000)


def signed_in_sessions(users: list[User], *, prefix: str, backend: str) -> list[str]:
    """A signed-in session per user, written in bulk; the keys start with `prefix` so the
    benchmark can delete them afterwards."""
    store = SessionStore()
    now = int(time.time())
    expire = timezone.now() + dt.timedelta(hours=2)
    rows = []
    keys = []
    for i, user in enumerate(users):
        key = "%s%06d%s" % (prefix, i, secrets.token_hex(8))
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": backend,
            "_auth_user_hash": user.get_session_auth_hash(),
            SESSION_LAST_SEEN: now,
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys.append(key)
    Session.objects.bulk_create(rows, batch_size=2000)
    return keys
