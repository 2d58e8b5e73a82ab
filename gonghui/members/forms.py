"""Reading member form posts into the plain dicts the services validate."""

from django.http import QueryDict

from gonghui.members.models import Tag

FORM_FIELDS = (
    "name",
    "phone",
    "ethnicity",
    "education",
    "skill_level",
    "political_status",
    "household_type",
    "household_place",
    "work_unit",
    "model_worker_level",
    "hardship_class",
    "joined_on",
    "join_method",
)


def member_data_from_post(post: QueryDict) -> dict[str, object]:
    data: dict[str, object] = {field: post.get(field, "") for field in FORM_FIELDS if field in post}
    data["tags"] = sum(tag.value for tag in Tag if str(tag.value) in post.getlist("tags"))
    return data
