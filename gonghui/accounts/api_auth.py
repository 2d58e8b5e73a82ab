"""Session authentication for the JSON API that applies the console's login policy
(`core.middleware.access_refusal`): staff operations need a staff role and, for 管理员/审计员,
the TOTP step passed in this session; member operations need a member record. Refusals are
domain errors, so the API renders them in the project's `{"code", "message", "fields"}`."""

from typing import Any

from django.http import HttpRequest
from ninja.security import SessionAuth

from gonghui.core.errors import DomainError, PermissionDenied
from gonghui.core.middleware import REFUSAL_MESSAGES, Area, Refusal, access_refusal


class OtpRequired(DomainError):
    code = "otp_required"
    status = 401


class PolicySessionAuth(SessionAuth):
    """The session's user, if the login policy lets them into `area` (CSRF-checked)."""

    def __init__(self, area: Area) -> None:
        super().__init__(csrf=True)
        self.area = area

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        refusal = access_refusal(request, area=self.area)
        if refusal is None:
            return request.user
        if refusal is Refusal.LOGIN:
            return None  # Ninja's AuthenticationError: 401 in the error shape (`config.api`)
        if refusal is Refusal.OTP:
            raise OtpRequired(REFUSAL_MESSAGES[refusal])
        raise PermissionDenied(REFUSAL_MESSAGES[refusal])


staff_session = PolicySessionAuth(Area.STAFF)
member_session = PolicySessionAuth(Area.MEMBER)
