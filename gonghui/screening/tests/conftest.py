import pytest


@pytest.fixture(autouse=True)
def _screening_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Every test keeps its screening files in its own directory."""
    settings.SCREENING_DIR = tmp_path / "screening"
    return settings.SCREENING_DIR
