import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SESSION_LAST_SEEN = "last_seen"


class IdleTimeoutMiddleware:
    """Sign out a session that has been idle longer than `SESSION_IDLE_TIMEOUT_SECONDS`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(SESSION_LAST_SEEN)
            if last_seen is not None and now - int(last_seen) > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                logout(request)
                request.session["idle_logged_out"] = True
            elif last_seen is None or now - int(last_seen) >= 30:
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)
