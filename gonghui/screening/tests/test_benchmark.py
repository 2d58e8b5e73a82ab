import io

import pytest

from gonghui.members.models import Member
from gonghui.screening import benchmarks
from gonghui.screening.models import Candidate

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_the_benchmark_runs_the_real_path_and_agrees_with_the_hand_written_query():
    out = io.StringIO()
    result = benchmarks.run(stdout=out, members=500, claims=5000, engine="duckdb", keep=False)
    assert set(result) == {
        "members",
        "claims_rows",
        "engine",
        "seconds",
        "baseline_seconds",
        "ratio",
        "candidates",
        "same_candidates",
        "peak_rss_mb",
    }
    assert result["same_candidates"] is True
    assert result["candidates"] > 0 and result["members"] == 500 and result["claims_rows"] == 5000
    assert result["peak_rss_mb"] > 0
    # Without --keep the synthetic registry is removed again.
    assert not Member.objects.filter(member_no__startswith="BS").exists()
    assert not Candidate.objects.exists()
