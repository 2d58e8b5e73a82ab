"""`bench orgs`: sub-tree queries over a large tree (default 100,000 organisations)."""

import argparse
import statistics
import time
from typing import Any

from django.db import connection, transaction

from gonghui.organizations.models import Level, Organization


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)


def _fill(total: int) -> None:
    """Grow a tree of `total` organisations under one benchmark root, 10 children a node."""
    with transaction.atomic():
        root = Organization.objects.create(
            code="BENCH-ROOT", name="基准测试总工会", level=Level.PROVINCE, path="~bench.", region_code="320000"
        )
        root.path = Organization.path_segment(root.pk)
        root.save(update_fields=["path"])
        frontier = [root]
        made = 1
        level = int(Level.PROVINCE)
        while made < total:
            level = min(level + 1, int(Level.GRASSROOTS))
            children: list[Organization] = []
            for parent in frontier:
                for _ in range(10):
                    if made >= total:
                        break
                    children.append(
                        Organization(
                            code=f"B{made:07d}",
                            name=f"基准工会{made}",
                            level=level,
                            parent=parent,
                            path=f"~{made}.",
                            depth=parent.depth + 1,
                            region_code="320500",
                        )
                    )
                    made += 1
            Organization.objects.bulk_create(children, batch_size=5000)
            for child in children:
                assert child.parent is not None
                child.path = child.parent.path + Organization.path_segment(child.pk)
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE %s SET path = %%s WHERE id = %%s" % connection.ops.quote_name(Organization._meta.db_table),  # noqa: S608
                    [(c.path, c.pk) for c in children],
                )
            frontier = children


def run(*, stdout: Any, orgs: int, repeat: int, **_: Any) -> dict[str, Any]:
    if not Organization.objects.filter(code="BENCH-ROOT").exists():
        started = time.perf_counter()
        _fill(orgs)
        stdout.write(f"built {orgs} organisations in {time.perf_counter() - started:.1f}s")
    root = Organization.objects.get(code="BENCH-ROOT")
    total = Organization.objects.filter(path__startswith=root.path).count()
    mid = Organization.objects.filter(path__startswith=root.path, depth=root.depth + 2).order_by("id").first()
    assert mid is not None
    timings: dict[str, list[float]] = {"whole_tree_count": [], "mid_subtree_ids": [], "leaf_ancestry_check": []}
    leaf = Organization.objects.filter(path__startswith=mid.path).order_by("-depth", "id").first()
    assert leaf is not None
    for _round in range(repeat):
        t = time.perf_counter()
        Organization.objects.filter(path__startswith=root.path).count()
        timings["whole_tree_count"].append(time.perf_counter() - t)
        t = time.perf_counter()
        list(Organization.objects.filter(path__startswith=mid.path).values_list("id", flat=True))
        timings["mid_subtree_ids"].append(time.perf_counter() - t)
        t = time.perf_counter()
        Organization.objects.filter(pk=leaf.pk, path__startswith=mid.path).exists()
        timings["leaf_ancestry_check"].append(time.perf_counter() - t)
    result: dict[str, Any] = {
        "orgs": total,
        "mid_subtree_size": Organization.objects.filter(path__startswith=mid.path).count(),
    }
    for name, samples in timings.items():
        result[f"{name}_p95_ms"] = round(statistics.quantiles(samples, n=20)[18] * 1000, 2)
    return result


BENCHMARKS = {"orgs": (add_arguments, run)}
