from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from gonghui.accounts.models import User


class StaffPasswordBackend(ModelBackend):
    """Password login; lock-out is enforced by `services.staff_authenticate`, which callers use."""

    def user_can_authenticate(self, user: Any) -> bool:
        return bool(getattr(user, "is_active", False))

    def get_user(self, user_id: Any) -> User | None:
        # Every member page needs the member and their union (the access policy checks the
        # one, coupons and reports the other): they come with the user, in one query.
        return User.objects.select_related("member_profile__organization").filter(pk=user_id, is_active=True).first()

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:  # type: ignore[override]
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # equal work whether or not the user exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
