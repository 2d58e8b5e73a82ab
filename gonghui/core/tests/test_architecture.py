"""Guards on the layering in docs/architecture.md, read from the source with `ast`:

- a view or API module asks a selector or a service for tenant rows and never queries a
  tenant-scoped model itself (the zulip rule: a query in a view that bypasses a selector is an
  IDOR waiting to happen);
- the kernel (`gonghui/core`) imports no other app;
- no import cycle runs between apps, counting imports inside functions (a local import hides a
  cycle, it does not remove one)."""

import ast
import importlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from django.apps import apps
from django.db import models

import gonghui
from gonghui.health.models import Indicator
from gonghui.members.models import Member

PACKAGE = Path(gonghui.__file__).parent

MANAGERS = {"objects", "_default_manager", "_base_manager"}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}

# Direct queries a view or API module may make on a tenant-scoped model, each with the reason it
# is safe: {(path under gonghui/, model label): reason}. Empty: every view reads through its app's
# selectors. An entry needs a reason a reviewer accepts, e.g. a lookup by a key only its holder
# can know, already narrowed to the signed-in member.
ALLOWED_DIRECT_QUERIES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Source:
    path: Path
    module: str

    @property
    def rel(self) -> str:
        return self.path.relative_to(PACKAGE).as_posix()

    @property
    def app(self) -> str:
        return self.rel.split("/", 1)[0]

    def tree(self) -> ast.Module:
        return ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))


def _sources() -> Iterator[Source]:
    """Every app module except tests (which run the apps together on purpose)."""
    for path in sorted(PACKAGE.glob("*/**/*.py")):
        rel = path.relative_to(PACKAGE)
        if "tests" in rel.parts:
            continue
        parts = ["gonghui", *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield Source(path, ".".join(parts))


def _is_view_module(source: Source) -> bool:
    rel = source.rel.split("/")
    return rel[-1] in {"views.py", "api.py"} or rel[-1].endswith("_views.py") or (len(rel) == 3 and rel[1] == "views")


# ---- views and APIs read tenant rows through selectors --------------------------------------


def _tenant_models() -> set[type[models.Model]]:
    """Organisations themselves and every model that carries one: a foreign key to an
    organisation or an `organization_id` column."""
    organization = apps.get_model("organizations", "Organization")
    found: set[type[models.Model]] = {organization}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if (field.is_relation and field.related_model is organization) or field.attname == "organization_id":
                found.add(model)
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else "%s.%s" % (base, node.attr)
    return None


def _resolve(namespace: dict[str, Any], dotted: str) -> Any:
    head, *rest = dotted.split(".")
    value = namespace.get(head)
    for name in rest:
        value = getattr(value, name, None)
    return value


def direct_queries(tree: ast.Module, namespace: dict[str, Any], tenant: set[type[models.Model]]) -> list[str]:
    """`Model.objects…`, `Model._default_manager…` and `get_object_or_404(Model, …)` on a
    tenant-scoped model, as "line: label"; a manager on a name that does not resolve to a model
    class counts too, since it cannot be shown to be harmless."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        target: ast.expr | None = None
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            target = node.value
        elif isinstance(node, ast.Call) and node.args and _dotted(node.func) in SHORTCUTS:
            target = node.args[0]
        if target is None:
            continue
        dotted = _dotted(target)
        model = _resolve(namespace, dotted) if dotted else None
        if isinstance(model, type) and issubclass(model, models.Model):
            if model in tenant:
                found.append((node.lineno, model._meta.label))
        else:
            found.append((node.lineno, "%s (not a model class this module names)" % (dotted or ast.unparse(target))))
    return ["%d: %s" % hit for hit in sorted(found)]


def test_views_and_apis_query_tenant_models_only_through_selectors() -> None:
    tenant = _tenant_models()
    offences = []
    checked = 0
    for source in _sources():
        if not _is_view_module(source):
            continue
        checked += 1
        module: ModuleType = importlib.import_module(source.module)
        for hit in direct_queries(source.tree(), vars(module), tenant):
            label = hit.split(": ", 1)[1]
            if (source.rel, label) not in ALLOWED_DIRECT_QUERIES:
                offences.append("gonghui/%s:%s" % (source.rel, hit))
    assert checked >= 10  # the globs still find the view modules
    assert offences == [], "query these through the app's selectors.py:\n" + "\n".join(offences)


def test_the_view_guard_catches_a_direct_query() -> None:
    """The check itself: a view that queries members directly, or fetches one by primary key
    with get_object_or_404, is caught; a query on a catalogue with no organisation is not."""
    tree = ast.parse(
        "def view(request, pk):\n"
        "    a = Member.objects.filter(pk=pk)\n"
        "    b = get_object_or_404(Member, pk=pk)\n"
        "    c = Indicator.objects.order_by('sort_order')\n"
        "    d = models.Member._default_manager.all()\n"
        "    e = model.objects.all()\n"
    )
    namespace = {"Member": Member, "Indicator": Indicator, "models": importlib.import_module("gonghui.members.models")}
    assert direct_queries(tree, namespace, _tenant_models()) == [
        "2: members.Member",
        "3: members.Member",
        "5: members.Member",
        "6: model (not a model class this module names)",
    ]


def test_the_allow_list_names_real_modules_and_gives_reasons() -> None:
    for (rel, label), reason in ALLOWED_DIRECT_QUERIES.items():
        assert (PACKAGE / rel).is_file(), rel
        assert apps.get_model(label) in _tenant_models(), label
        assert reason.strip(), (rel, label)


# ---- the kernel imports no app; no cycles between apps ----------------------------------------


def _imports(source: Source) -> Iterator[tuple[str, int]]:
    """Every module `source` imports, at any depth in the file, with its line."""
    package = source.module if source.path.name == "__init__.py" else source.module.rsplit(".", 1)[0]
    for node in ast.walk(source.tree()):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base), node.lineno
            elif node.module:
                yield node.module, node.lineno


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gonghui" else None


def _app_edges() -> dict[tuple[str, str], str]:
    """(importing app, imported app) → one place it happens."""
    edges: dict[tuple[str, str], str] = {}
    for source in _sources():
        for module, line in _imports(source):
            other = _app_of(module)
            if other is not None and other != source.app:
                edges.setdefault((source.app, other), "gonghui/%s:%d imports %s" % (source.rel, line, module))
    return edges


def test_the_kernel_imports_no_other_app() -> None:
    offences = [where for (app, _other), where in sorted(_app_edges().items()) if app == "core"]
    assert offences == [], "the kernel must learn about apps through registration:\n" + "\n".join(offences)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, …, a], or None."""
    done: set[str] = set()

    def walk(node: str, trail: list[str]) -> list[str] | None:
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            found = walk(nxt, [*trail, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = walk(start, [])
        if found:
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles_between_apps() -> None:
    edges = _app_edges()
    graph: dict[str, set[str]] = {}
    for app, other in edges:
        graph.setdefault(app, set()).add(other)
    cycle = _cycle(graph)
    assert cycle is None, "apps import each other in a circle:\n" + "\n".join(
        edges[pair] for pair in itertools.pairwise(cycle)
    )


# ---- hand-written SQL names tables and statuses through the models ------------------------------

SQL_WORDS = re.compile(r"\b(SELECT|UPDATE|INSERT|DELETE|FROM|JOIN|TABLE|INTO)\b")
STATUS_LITERAL = re.compile(r"\bstatus\s*(=|<>|!=|IN\s*\()\s*'", re.IGNORECASE)


def hand_written_names(tree: ast.Module, tables: set[str]) -> list[str]:
    """SQL text in string constants that spells out a model's table or compares a status with a
    quoted literal, as "line: text"."""
    spelled = re.compile(r"\b(%s)\b" % "|".join(sorted(map(re.escape, tables), key=len, reverse=True)))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_WORDS.search(node.value)):
            continue
        match = spelled.search(node.value) or STATUS_LITERAL.search(node.value)
        if match:
            found.append((node.lineno, match.group(0)))
    return ["%d: %s" % hit for hit in sorted(found)]


def _tables() -> set[str]:
    return {model._meta.db_table for model in apps.get_models(include_auto_created=True)}


def test_hand_written_sql_takes_table_names_and_statuses_from_the_models() -> None:
    tables = _tables()
    offences = [
        "gonghui/%s:%s" % (source.rel, hit)
        for source in _sources()
        if "migrations" not in source.rel.split("/")  # migrations are history: they keep the names of their day
        for hit in hand_written_names(source.tree(), tables)
    ]
    assert offences == [], "use core.sql.table(Model) / Model._meta.db_table and core.sql.choice(Enum.X):\n" + (
        "\n".join(offences)
    )


def test_the_sql_guard_catches_a_spelled_out_table_and_status() -> None:
    tree = ast.parse(
        "A = \"UPDATE benefits_coupon SET status = 'redeemed' WHERE id = %s\"\n"
        "B = \"SELECT 1 FROM %s WHERE status <> 'draft'\" % table\n"
        'C = f"SELECT 1 FROM {table} WHERE status = {choice}"\n'
        "D = 'benefits_coupon is the coupon table'\n"
    )
    assert hand_written_names(tree, _tables()) == ["1: benefits_coupon", "2: status <> '"]
