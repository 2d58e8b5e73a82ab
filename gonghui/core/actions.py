"""A button on a console page (重试, 取消, 继续 …): run the service, say how it went, go back.

A refusal about the state of things (`ValidationFailed`, `Conflict`: the run already finished,
the file is gone) becomes a message on the page the user came from; a permission refusal or a
missing object is raised on, and stays a 403 or 404."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from gonghui.core.errors import Conflict, ValidationFailed


def button(request: HttpRequest, act: Callable[[], object], *, done: str, then: str, **url_kwargs: Any) -> HttpResponse:
    try:
        act()
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(then, **url_kwargs)
