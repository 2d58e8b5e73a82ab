from typing import Any

from gonghui.core.aggregates import SMALL_GROUP_POLICY
from gonghui.core.models import Job
from gonghui.organizations.models import PolicyVersion


def _union_a_policy(w: Any) -> dict[str, int]:
    version, _ = PolicyVersion.objects.get_or_create(
        kind=SMALL_GROUP_POLICY,
        organization=w.union_a,
        version=1,
        defaults={"valid_from": "2026-01-01", "body": {"min_group": 12}, "created_by": w.staff_a},
    )
    return {"pk": version.pk}


def _union_a_job(w: Any) -> dict[str, int]:
    return {"pk": Job.objects.create(kind="benefits.issue_run", organization=w.union_a, created_by=w.staff_a).pk}


URL_OBJECTS = {
    "organizations:job_cancel": _union_a_job,
    "organizations:job_retry": _union_a_job,
    "organizations:detail": lambda w: {"pk": w.union_a.pk},
    "organizations:create_child": lambda w: {"pk": w.union_a.pk},
    "organizations:role_grant": lambda w: {"pk": w.union_a.pk},
    "organizations:staff_create": lambda w: {"pk": w.union_a.pk},
    "organizations:role_revoke": lambda w: {
        "pk": w.union_a.pk,
        "assignment_pk": w.staff_a.role_assignments.filter(organization=w.union_a).values_list("pk", flat=True)[0],
    },
    "organizations:policy_detail": _union_a_policy,
    "organizations:policy_decide": _union_a_policy,
}
