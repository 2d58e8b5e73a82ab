"""What each app contributes to the platform, declared in its `AppConfig.ready()`.

The kernel knows no domain. An app adds its permissions (and which roles hold them), its
console navigation, its H5 tiles, its device kinds, its demo seeder and the Chinese labels of
its audit actions here; the composition layer (`gonghui.site`) and the tenant layer
(`gonghui.organizations`) read them back. Adding a module therefore edits no other app::

    def ready(self) -> None:
        from gonghui.core import registry

        registry.permissions("relief", {"relief.view": "查看困难帮扶", "relief.manage": "办理困难帮扶"})
        registry.grant("handler", "relief.view", "relief.manage")
        registry.nav(registry.NavItem("relief", "困难帮扶", "house-heart", "relief:home", perms=("relief.view",)))
        registry.tile(registry.Tile("relief", "困难帮扶", "house-heart", "/h5/relief/", order=40))
        registry.audit_labels({"relief.case_submit": "提交临时救助申请"})
        registry.seeder("relief", order=60, run=seed_relief)

Registering the same key again replaces the earlier entry (tests and autoreload call `ready()`
more than once); a permission or role granted twice is held once.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps as django_apps
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

# --- roles and permissions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Permission:
    code: str
    label: str
    app: str


@dataclass(frozen=True, slots=True)
class RoleDef:
    code: str
    label: str
    requires_totp: bool = False


_roles: dict[str, RoleDef] = {}
_permissions: dict[str, Permission] = {}
_grants: dict[str, set[str]] = {}


def role(code: str, label: str, *, requires_totp: bool = False) -> None:
    """Declare a role staff can be granted on an organisation (the tenant layer stores grants)."""
    _roles[code] = RoleDef(code, label, requires_totp)
    _grants.setdefault(code, set())


def roles() -> list[RoleDef]:
    return list(_roles.values())


def role_choices() -> list[tuple[str, str]]:
    """For a model field's `choices` (a callable keeps migrations stable as apps add roles)."""
    return [(r.code, r.label) for r in _roles.values()]


def role_label(code: str) -> str:
    found = _roles.get(code)
    return found.label if found else code


def roles_requiring_totp() -> frozenset[str]:
    return frozenset(r.code for r in _roles.values() if r.requires_totp)


def permissions(app: str, perms: Mapping[str, str]) -> None:
    """Declare `app`'s permissions as {code: Chinese label}."""
    for code, label in perms.items():
        _permissions[code] = Permission(code, label, app)


def all_permissions() -> list[Permission]:
    return sorted(_permissions.values(), key=lambda p: (p.app, p.code))


def permission_label(code: str) -> str:
    found = _permissions.get(code)
    return found.label if found else code


def grant(role_code: str, *perms: str) -> None:
    """Let holders of `role_code` hold `perms`. The role and each permission must be declared."""
    if role_code not in _roles:
        raise ImproperlyConfigured(f"grant to undeclared role {role_code!r}")
    unknown = [p for p in perms if p not in _permissions]
    if unknown:
        raise ImproperlyConfigured(f"grant of undeclared permissions {unknown!r}")
    _grants[role_code].update(perms)


def grants(by_role: Mapping[str, Iterable[str]]) -> None:
    """`grant` for several roles at once: {"admin": (perm, …), "handler": (…)}."""
    for role_code, perms in by_role.items():
        grant(role_code, *perms)


def role_permissions() -> dict[str, frozenset[str]]:
    return {code: frozenset(perms) for code, perms in _grants.items()}


def perms_of(role_code: str) -> frozenset[str]:
    return frozenset(_grants.get(role_code, ()))


def holds(role_code: str, perm: str) -> bool:
    """Does `role_code` grant `perm`? (The tenant layer's role checks ask this.)"""
    return perm in _grants.get(role_code, ())


def roles_granting(perm: str) -> list[str]:
    return [code for code, perms in _grants.items() if perm in perms]


# --- console navigation and H5 tiles --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the console sidebar. `url` is a URL name (``"relief:home"``) or a path;
    the entry shows to a user holding any of `perms` somewhere (no perms: every staff user)."""

    key: str
    label: str
    icon: str
    url: str
    perms: tuple[str, ...] = ()
    order: int = 100

    @property
    def href(self) -> str:
        if self.url.startswith("/"):
            return self.url
        return reverse(self.url)


@dataclass(frozen=True, slots=True)
class Tile:
    """A service tile on the member's H5 home; `icon` is a Bootstrap Icons glyph name. A tile
    with no URL is a service not yet open here and shows greyed out as 即将开通."""

    key: str
    label: str
    icon: str
    url: str | None
    order: int = 100


_nav: dict[str, NavItem] = {}
_tiles: dict[str, Tile] = {}


def nav(item: NavItem) -> None:
    _nav[item.key] = item


def nav_items(has_perm: Callable[[str], bool]) -> list[NavItem]:
    """The sidebar for a user, in order; `has_perm(code)` answers whether they hold it anywhere."""
    items = sorted(_nav.values(), key=lambda i: (i.order, i.key))
    return [i for i in items if not i.perms or any(has_perm(p) for p in i.perms)]


def tile(item: Tile) -> None:
    _tiles[item.key] = item


def tile_placeholder(item: Tile) -> None:
    """Announce a service not open yet (即将开通), unless an app has registered the real tile."""
    _tiles.setdefault(item.key, item)


def tiles() -> list[Tile]:
    return sorted(_tiles.values(), key=lambda t: (t.order, t.key))


# --- extra sections of another app's detail page -------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """A card one app adds to another app's detail page (`page`, e.g. "members.member_detail"):
    `build(request, obj)` returns the rendered HTML, or "" to show nothing (it must read
    through the app's own selectors, narrowed to the requesting user)."""

    key: str
    page: str
    build: Callable[[Any, Any], str]
    order: int = 100


_sections: dict[str, Section] = {}


def section(item: Section) -> None:
    _sections[item.key] = item


def sections(page: str, request: Any, obj: Any) -> list[str]:
    """The rendered extra sections of `page` for `obj`, in order (empty ones left out)."""
    found = sorted((s for s in _sections.values() if s.page == page), key=lambda s: (s.order, s.key))
    return [html for html in (s.build(request, obj) for s in found) if html]


# --- device kinds ---------------------------------------------------------------------------

_device_kinds: dict[str, str] = {}


def device_kind(code: str, label: str) -> None:
    _device_kinds[code] = label


def device_kind_choices() -> list[tuple[str, str]]:
    return sorted(_device_kinds.items())


# --- audit labels and object names ----------------------------------------------------------

_audit_labels: dict[str, str] = {}
_detail_labels: dict[str, str] = {}
_describers: dict[str, Callable[[Iterable[str]], Mapping[str, str]]] = {}


def audit_labels(labels: Mapping[str, str], *, details: Mapping[str, str] | None = None) -> None:
    """Chinese labels of audit actions ({"member.import_resume": "继续会员导入"}) and, optionally,
    of the keys that appear in their details ({"keep_good_rows": "保留正确行"})."""
    _audit_labels.update(labels)
    _detail_labels.update(details or {})


def audit_label(action: str) -> str:
    return _audit_labels.get(action, action)


def audit_actions() -> dict[str, str]:
    return dict(_audit_labels)


def detail_label(key: str) -> str:
    return _detail_labels.get(key, key)


def describer(model_label: str, describe: Callable[[Iterable[str]], Mapping[str, str]]) -> None:
    """`describe(pks)` names the objects of `model_label` ("members.member") for the audit page,
    e.g. {"42": "张* 会员号 M0000042"}, never revealing what the page may not show."""
    _describers[model_label] = describe


def describe_objects(model_label: str, pks: Iterable[str]) -> Mapping[str, str]:
    describe = _describers.get(model_label)
    return describe(pks) if describe else {}


def model_names() -> list[str]:
    return sorted(_describers)


# --- demo seeders ---------------------------------------------------------------------------


@dataclass(slots=True)
class SeedContext:
    """What a demo seeder is given: the seeded random generator (the same seed makes the same
    demo), where to print what it made, the demo's "today" (windows and deadlines are placed
    relative to it, so the demo works on any date) and `shared`, where a seeder leaves what a
    later one needs (the composition layer puts the organisation tree and the demo staff there)."""

    rng: Any
    stdout: Any
    today: Any
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Seeder:
    """`run(ctx)` adds the app's demo data; `ctx` is the composition layer's seeding context
    (organisations, members, the staff it made, today's date, a seeded random generator) and
    `run` may put what later seeders need into `ctx.shared`. Seeders run in `order`."""

    name: str
    order: int
    run: Callable[[Any], Any]
    label: str = ""


_seeders: dict[str, Seeder] = {}


def seeder(name: str, *, order: int, run: Callable[[Any], Any], label: str = "") -> None:
    _seeders[name] = Seeder(name, order, run, label)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda s: (s.order, s.name))


def describe_by(
    model_label: str,
    render: Callable[[Any], str],
    *,
    only: tuple[str, ...] = (),
    related: tuple[str, ...] = (),
) -> None:
    """A describer reading the objects of `model_label` by primary key and naming each with
    `render(obj)`; `only` lists the fields `render` reads (what is fetched, nothing more) and
    `related` the foreign keys it follows (fetched in the same query)."""

    def describe(pks: Iterable[str]) -> Mapping[str, str]:
        model = django_apps.get_model(model_label)
        wanted = {int(pk) for pk in pks if pk.isdigit() and len(pk) < 19}
        if not wanted:
            return {}
        rows = model._default_manager.filter(pk__in=wanted)
        if related:
            rows = rows.select_related(*related)
        if only:
            rows = rows.only(*only)
        return {str(obj.pk): render(obj) for obj in rows}

    describer(model_label, describe)


# --- functions one app offers to others -----------------------------------------------------

_offers: dict[str, Callable[..., Any]] = {}


def offer(name: str, fn: Callable[..., Any]) -> None:
    """Offer `fn` to other apps under `name` ("mutual_aid.paid_benefits_fen"), so they can call
    it without importing the offering app; offering the same name again replaces it."""
    _offers[name] = fn


def offered(name: str) -> Callable[..., Any] | None:
    """The function offered under `name`, or None when no installed app offers it."""
    return _offers.get(name)


# --- files an app seals outside the encrypted fields ---------------------------------------


@dataclass(frozen=True, slots=True)
class SealedFiles:
    """Files whose whole content is one `core.crypto` token of `purpose`, kept by an app in its
    own private storage (not through an `EncryptedFileNameField`): `paths()` lists those it
    still keeps, so `rotate_pii_keys` re-seals them under the active key."""

    label: str
    purpose: str
    paths: Callable[[], Iterable[Any]]


_sealed_files: dict[str, SealedFiles] = {}


def sealed_files(label: str, *, purpose: str, paths: Callable[[], Iterable[Any]]) -> None:
    _sealed_files[label] = SealedFiles(label, purpose, paths)


def sealed_file_sets() -> list[SealedFiles]:
    return list(_sealed_files.values())
