"""What this app adds to other apps' pages through `registry.section`."""

from typing import Any

from django.template.loader import render_to_string

from gonghui.competitions import selectors


def member_skills(request: Any, member: Any) -> str:
    """The member's 技术等级提升 records on the console's member page (within the viewer's scope)."""
    records = list(selectors.skill_records_for_actor(actor=request.user, member=member)[:20])
    return render_to_string("competitions/_member_skills.html", {"records": records}, request=request)
