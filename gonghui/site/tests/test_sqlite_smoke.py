"""The demo path on SQLite, the demo's own database, with real processes: `migrate`,
`seed_demo`, then `db_worker` and `runserver` against one SQLite file, driven over HTTP —
staff login with password and TOTP, a member import committed by the worker (through the
forked encryption pool), an SMS login, a coupon claim, its redemption at a clerk's point and a
health report.

Run by `make test` as its own pytest invocation: `DATABASE_URL=sqlite:///… pytest -m
sqlite_smoke`. Under PostgreSQL these tests skip."""

import datetime as dt
import http.cookiejar
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from gonghui.core.identifiers import make_resident_id
from gonghui.organizations.models import Level

pytestmark = [
    pytest.mark.sqlite_smoke,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
        reason="the SQLite smoke suite runs with DATABASE_URL=sqlite:///… (make test)",
    ),
]

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "Gonghui@2026"


@dataclass
class Demo:
    url: str
    db: Path
    env: dict[str, str]
    server_log: Path

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()


class Browser:
    """A cookie-keeping HTTP client that sends Django's CSRF token with every POST."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "") or ""

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path))  # noqa: S310 - http://127.0.0.1 only

    def post(
        self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None
    ) -> tuple[int, str, str]:
        fields = {"csrfmiddlewaretoken": self._csrf(), **data}
        if files:
            boundary = uuid.uuid4().hex
            body = io.BytesIO()
            for name, value in fields.items():
                body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
            for name, (filename, content) in files.items():
                body.write(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n".encode()
                )
                body.write(content + b"\r\n")
            body.write(f"--{boundary}--\r\n".encode())
            payload, content_type = body.getvalue(), f"multipart/form-data; boundary={boundary}"
        else:
            payload, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=payload, headers={"Content-Type": content_type, "X-CSRFToken": self._csrf()}
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.geturl().removeprefix(self.base), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, request.full_url.removeprefix(self.base), exc.read().decode()

    def raw(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=60) as response:
            return bytes(response.read())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM must stop it; SIGKILL only so that a failure leaves nothing behind."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{name} ignored SIGTERM")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    var = tmp_path_factory.mktemp("demo")
    port = _free_port()
    db = var / "demo.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "GONGHUI_VAR_DIR": str(var),
        "DEBUG": "1",
        "MEMBER_IMPORT_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    demo = Demo(url=f"http://127.0.0.1:{port}", db=db, env=env, server_log=var / "server.log")
    demo.manage("migrate", "--noinput", "-v", "0", timeout=300)
    # What an interrupted seed of an older version left: organisations, no completion marker.
    demo.manage(
        "shell",
        "-c",
        "from gonghui.organizations.models import Level; "
        "from gonghui.organizations.services import organization_create as c; "
        "c(actor=None, parent=None, code='JS0001', name='江苏省总工会', level=Level.PROVINCE, region_code='320000')",
    )
    seeded = demo.manage("seed_demo", "--members", "200", "--if-empty", "--url", demo.url, timeout=300)
    assert "发现未完成的演示数据，删除后重新生成。" in seeded
    assert "会员：200 名" in seeded
    assert f"登录 {demo.url}/accounts/login/" in seeded
    assert demo.query("SELECT count(*) FROM members_member") == [(200,)]
    again = demo.manage("seed_demo", "--members", "200", "--if-empty", "--url", demo.url)
    assert "演示数据已存在，跳过" in again

    with open(demo.server_log, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--queue-name", "default", "--interval", "0.2"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for(lambda: _answers(demo.url), 60, "the web server")
            yield demo
        finally:
            _stop(server, "runserver")
            _stop(worker, "db_worker")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/accounts/login/", timeout=5) as response:  # noqa: S310 - local server
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _without_dimension(xlsx: bytes) -> bytes:
    """As some spreadsheet programs save it: no <dimension>, so the row count is unknown and
    the import takes the forked encryption pool."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            target.writestr(item, data)
    return out.getvalue()


def _import_file(browser: Browser) -> tuple[bytes, list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(browser.raw("/console/members/import/template/")))
    sheet = workbook["会员信息"]
    headers = [c.value for c in sheet[1]]
    phones = [f"1770000{n:04d}" for n in range(3)]
    for n, phone in enumerate(phones):
        row = {
            "姓名": "导入测试%s" % "甲乙丙"[n],
            "证件号码": make_resident_id("320508", dt.date(1988, 5, 1 + n), 300 + n, "F"),
            "手机号": phone,
            "入会日期": "2022-04-01",
        }
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=n + 2, column=col, value=row.get(str(header), ""))
    saved = io.BytesIO()
    workbook.save(saved)
    return _without_dimension(saved.getvalue()), phones


def _staff_login(demo: Demo, username: str, *, totp: bool) -> Browser:
    browser = Browser(demo.url)
    browser.get("/accounts/login/")
    status, where, _page = browser.post("/accounts/login/", {"username": username, "password": PASSWORD})
    if totp:
        assert (status, where.split("?")[0]) == (200, "/accounts/otp/")
        code = demo.manage("totp_code", username).strip()
        status, where, _page = browser.post("/accounts/otp/?next=/console/", {"code": code})
    assert (status, where) == (200, "/console/")
    return browser


def _sms_code(demo: Demo, phone: str) -> str:
    def latest() -> str:
        found = re.findall(r"短信 → %s：.*?验证码为 (\d{6})" % phone, demo.server_log.read_text(errors="replace"))
        return found[-1] if found else ""

    return str(_wait_for(latest, 10, "the SMS code in the server log"))


def test_the_demo_path_on_sqlite_with_a_real_task_worker(demo: Demo) -> None:
    # 管理员: password, then the TOTP code printed by `manage.py totp_code`.
    admin = _staff_login(demo, "demo_admin", totp=True)

    # Member import into a grassroots union, committed by the worker through the fork pool.
    union_code, union_id = demo.query(
        "SELECT code, id FROM organizations_organization WHERE level = ? ORDER BY path LIMIT 1", Level.GRASSROOTS.value
    )[0]
    content, phones = _import_file(admin)
    admin.get("/console/members/import/")
    status, where, page = admin.post(
        "/console/members/import/upload/", {"organization": union_code}, files={"file": ("会员导入.xlsx", content)}
    )
    assert status == 200, page
    batch_id = int(re.fullmatch(r"/console/members/import/(\d+)/", where).group(1))  # type: ignore[union-attr]
    assert demo.query("SELECT status, rows_valid, rows_invalid FROM members_importbatch WHERE id = ?", batch_id) == [
        ("validated", 3, 0)
    ]
    status, _where, _page = admin.post(f"/console/members/import/{batch_id}/commit/", {})
    assert status == 200
    final = _wait_for(
        lambda: demo.query(
            "SELECT status, created FROM members_importbatch WHERE id = ? AND status IN ('succeeded', 'failed')",
            batch_id,
        ),
        60,
        "the worker to commit the import",
    )
    assert final == [("succeeded", 3)]
    imported = demo.query(
        "SELECT phone FROM members_member WHERE organization_id = ? AND phone LIKE '1770000%'", union_id
    )
    assert sorted(p for (p,) in imported) == phones
    # The database is not left locked: a write from another process goes through at once.
    assert _staff_login(demo, "demo_handler", totp=False)

    # 张伟 signs in with an SMS code and claims a 先到先得 coupon.
    member = Browser(demo.url)
    member.get("/h5/login/")
    status, _where, _page = member.post("/h5/login/send-code/", {"phone": "13800000001"})
    assert status == 200
    status, where, _page = member.post("/h5/login/", {"phone": "13800000001", "code": _sms_code(demo, "13800000001")})
    assert (status, where) == (200, "/h5/")
    [(campaign_id,)] = demo.query("SELECT id FROM benefits_campaign WHERE mode = 'first_come'")
    status, where, page = member.post(
        f"/h5/coupons/campaigns/{campaign_id}/claim/", {"idempotency_key": uuid.uuid4().hex}
    )
    assert status == 200, page
    coupon_id = int(re.fullmatch(r"/h5/coupons/(\d+)/", where).group(1))  # type: ignore[union-attr]
    [(code, coupon_status)] = demo.query("SELECT code, status FROM benefits_coupon WHERE id = ?", coupon_id)
    assert coupon_status == "claimed"

    # 核销员 redeems it at the union station.
    clerk = _staff_login(demo, "demo_redeemer", totp=False)
    [(point_id,)] = demo.query(
        "SELECT p.id FROM benefits_redemptionpoint p JOIN benefits_campaign_allowed_points cp ON cp.redemptionpoint_id = p.id "
        "WHERE cp.campaign_id = ? AND p.kind = 'station'",
        campaign_id,
    )
    status, where, _page = clerk.post("/clerk/redeem/point/", {"point": str(point_id)})
    assert (status, where) == (200, "/clerk/redeem/")
    status, _where, page = clerk.post("/clerk/redeem/confirm/", {"code": code, "request_id": uuid.uuid4().hex})
    assert status == 200
    assert "核销成功" in page
    assert demo.query("SELECT status FROM benefits_coupon WHERE id = ?", coupon_id) == [("redeemed",)]

    # His check-up reports.
    status, _where, page = member.get("/h5/health/")
    assert status == 200
    report = re.search(r'href="(/h5/health/reports/\d+/)"', page)
    assert report is not None, page[-2000:]
    status, _where, page = member.get(report.group(1))
    assert status == 200
    assert "收缩压" in page
