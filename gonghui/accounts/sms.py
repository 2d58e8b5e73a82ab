"""Pluggable SMS senders. `SMS_SENDER` names the class; the console sender logs the message
(the demo and tests read codes from the outbox instead of a phone)."""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class ConsoleSmsSender:
    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        ConsoleSmsSender.outbox.append((phone, message))
        del ConsoleSmsSender.outbox[:-100]
        logger.warning("短信 → %s：%s", phone, message)


def get_sender() -> SmsSender:
    return import_string(settings.SMS_SENDER)()  # type: ignore[no-any-return]
