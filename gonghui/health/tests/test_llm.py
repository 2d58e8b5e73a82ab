"""The optional LLM summary, against a fake OpenAI-compatible server on 127.0.0.1: a summary
that quotes only numbers found in the report is kept; one that invents a number is discarded;
an unreachable endpoint fails without touching the report."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from gonghui.core.models import AuditEvent
from gonghui.health import llm, services
from gonghui.health.models import Checkup, LlmStatus
from gonghui.health.report import build_report
from gonghui.health.tasks import checkup_llm_summary_task
from gonghui.health.tests.samples import messy_hl7
from gonghui.site.testing import World


class FakeCompletions(BaseHTTPRequestHandler):
    reply = ""
    requests: list[dict] = []  # type: ignore[type-arg]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": type(self).reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def fake_llm(settings) -> Iterator[type[FakeCompletions]]:  # type: ignore[no-untyped-def]
    FakeCompletions.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.HEALTH_LLM_ENABLED = True
    settings.HEALTH_LLM_BASE_URL = "http://127.0.0.1:%d/v1" % server.server_address[1]
    settings.HEALTH_LLM_MODEL = "qwen-test"
    settings.HEALTH_LLM_API_KEY = "sk-test"
    settings.HEALTH_LLM_TIMEOUT_SECONDS = 5
    try:
        yield FakeCompletions
    finally:
        server.shutdown()
        server.server_close()


def import_report(world: World, ids: dict[str, str]) -> Checkup:
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab.hl7",
        content=messy_hl7(ids["a"], ids["b"]),
        enqueue=False,
    )
    services.import_batch_run(batch_id=batch.pk)
    return Checkup.objects.get(external_id="TJ2025-001")


FAITHFUL = (
    "本次体检有 5 项偏高。空腹血糖 6.3 mmol/L，比 2024 年的 5.28 升高了 1.02，属于空腹血糖受损；"
    "尿酸 480 μmol/L，高于 420；收缩压 142 mmHg。建议每天饮水 2000 毫升以上，每周运动 150 分钟。"
)
INVENTED = "空腹血糖 6.3 mmol/L，预计一年后将升到 7.8，需要立即服药。"


@pytest.mark.django_db
def test_a_summary_quoting_only_report_numbers_is_kept(world: World, ids: dict[str, str], fake_llm) -> None:  # type: ignore[no-untyped-def]
    checkup = import_report(world, ids)
    fake_llm.reply = FAITHFUL
    checkup_llm_summary_task.func(checkup.pk)
    checkup.refresh_from_db()
    assert checkup.llm_status == LlmStatus.ACCEPTED
    assert FAITHFUL not in checkup.llm_summary_encrypted  # encrypted at rest
    assert services.llm_summary_text(checkup) == FAITHFUL
    assert build_report(checkup).llm_summary == FAITHFUL
    sent = fake_llm.requests[-1]
    assert (sent["path"], sent["auth"], sent["body"]["model"]) == (
        "/v1/chat/completions",
        "Bearer sk-test",
        "qwen-test",
    )
    prompt = sent["body"]["messages"][1]["content"]
    assert "空腹血糖 偏高：6.30 mmol/L" in prompt
    assert world.member_a.name not in prompt and ids["a"] not in prompt  # no identity leaves the platform
    services.health_consent_grant(member=world.member_a)
    page = world.client_for(world.member_a.user).get("/h5/health/reports/%d/" % checkup.pk).content.decode()
    assert FAITHFUL in page


@pytest.mark.django_db
def test_a_summary_with_an_invented_number_is_discarded(world: World, ids: dict[str, str], fake_llm) -> None:  # type: ignore[no-untyped-def]
    checkup = import_report(world, ids)
    fake_llm.reply = INVENTED
    checkup_llm_summary_task.func(checkup.pk)
    checkup.refresh_from_db()
    assert (checkup.llm_status, checkup.llm_summary_encrypted) == (LlmStatus.REJECTED, "")
    event = AuditEvent.objects.get(action="health.llm_summary")
    assert (event.result, event.detail) == ("failed", {"status": "rejected", "reason": "引用了报告中没有的数字：7.8"})
    assert build_report(checkup).llm_summary == ""


@pytest.mark.django_db
def test_an_unreachable_endpoint_fails_quietly(world: World, ids: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    checkup = import_report(world, ids)
    settings.HEALTH_LLM_ENABLED = True
    settings.HEALTH_LLM_BASE_URL = "http://127.0.0.1:9/v1"
    settings.HEALTH_LLM_TIMEOUT_SECONDS = 2
    outcome = llm.summarise(build_report(checkup))
    assert (outcome.status, outcome.text, outcome.reason) == (LlmStatus.FAILED, "", "调用失败：URLError")


@pytest.mark.django_db
def test_an_unexpected_error_in_the_task_stores_failed_with_a_reason_and_is_raised(
    world: World, ids: dict[str, str], fake_llm, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    checkup = import_report(world, ids)

    def broken(view: object) -> str:
        raise RuntimeError("model server protocol changed")

    monkeypatch.setattr(llm, "findings_prompt", broken)
    with pytest.raises(RuntimeError):
        checkup_llm_summary_task.func(checkup.pk)
    checkup.refresh_from_db()
    assert (checkup.llm_status, checkup.llm_summary_encrypted) == (LlmStatus.FAILED, "")
    event = AuditEvent.objects.get(action="health.llm_summary")
    assert (event.result, event.detail) == (
        "failed",
        {"status": "failed", "reason": "生成时发生系统错误（RuntimeError），未生成解读"},
    )
    assert fake_llm.requests == []


@pytest.mark.django_db
def test_off_by_default(world: World, ids: dict[str, str]) -> None:
    checkup = import_report(world, ids)
    assert llm.enabled() is False
    checkup_llm_summary_task.func(checkup.pk)
    checkup.refresh_from_db()
    assert checkup.llm_status == LlmStatus.NONE
    assert not AuditEvent.objects.filter(action="health.llm_summary").exists()


@pytest.mark.parametrize(
    ("summary", "unknown"),
    [
        ("血糖 6.30", []),
        ("血糖 6.3，较去年 5.28", []),
        ("血糖６.３", []),  # full-width digits are read as digits
        ("血糖 6.31", ["6.31"]),
        ("第 3 项", ["3"]),
        ("2023 年", ["2023"]),
    ],
)
def test_number_check(summary: str, unknown: list[str]) -> None:
    reference = "空腹血糖 6.30 mmol/L；2024年为 5.28，变化 +1.02；共 11 项"
    assert llm.unsupported_numbers(summary, reference) == unknown


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loaded_catalogue")
def test_import_queues_summaries_when_enabled(fake_llm) -> None:  # type: ignore[no-untyped-def]
    from gonghui.health.tests.conftest import id_of
    from gonghui.site.testing import build_world

    world = build_world()
    fake_llm.reply = FAITHFUL
    batch = services.import_batch_create(
        actor=world.staff_a,
        organization=world.union_a,
        fmt="hl7",
        filename="lab.hl7",
        content=messy_hl7(id_of(world.member_a), id_of(world.member_b)),
        enqueue=False,
    )
    services.import_batch_run(batch_id=batch.pk)
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    statuses = dict(Checkup.objects.values_list("external_id", "llm_status"))
    # the 2024 report has no abnormal item, so its summary quotes numbers it does not contain
    assert statuses == {"TJ2025-001": LlmStatus.ACCEPTED, "TJ2024-001": LlmStatus.REJECTED}
