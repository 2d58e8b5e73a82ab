"""Reading member form posts into the plain dicts the services validate."""

from django.http import QueryDict

from gonghui.members.models import Tag
from gonghui.members.services import EDITABLE_FIELDS

# The form sends tags as one checkbox each; every other editable field is a plain input.
FORM_FIELDS = tuple(field for field in EDITABLE_FIELDS if field != "tags")


def member_data_from_post(post: QueryDict) -> dict[str, object]:
    data: dict[str, object] = {field: post.get(field, "") for field in FORM_FIELDS if field in post}
    data["tags"] = sum(tag.value for tag in Tag if str(tag.value) in post.getlist("tags"))
    return data
