import pytest

from gonghui.health.catalogue import Catalogue, current_catalogue, forget_catalogue
from gonghui.members.identity import decrypt_id_number
from gonghui.site.testing import World


@pytest.fixture
def catalogue(db) -> Catalogue:  # type: ignore[no-untyped-def]
    forget_catalogue()
    return current_catalogue()


def id_of(member) -> str:  # type: ignore[no-untyped-def]
    return decrypt_id_number(member.id_number_encrypted)


@pytest.fixture
def ids(world: World) -> dict[str, str]:
    return {"a": id_of(world.member_a), "b": id_of(world.member_b)}


@pytest.fixture
def health_staff(world: World):  # type: ignore[no-untyped-def]
    """A 健康管理员 of union A and nothing else (the role that runs check-ups)."""
    from gonghui.core.permissions import Role
    from gonghui.site.testing import grant, make_user

    return grant(make_user("health_a"), world.union_a, Role.HEALTH)


@pytest.fixture
def loaded_catalogue(transactional_db):  # type: ignore[no-untyped-def]
    """Transactional tests run after others have flushed the database (and with it the
    catalogue its data migration loaded): load the shipped catalogue again."""
    from gonghui.health.catalogue import load_catalogue, read_catalogue_file
    from gonghui.health.models import CatalogueRelease, Indicator, ReferenceInterval

    models = {"CatalogueRelease": CatalogueRelease, "Indicator": Indicator, "ReferenceInterval": ReferenceInterval}
    load_catalogue(read_catalogue_file(), models=models)
    forget_catalogue()
    yield
    forget_catalogue()
