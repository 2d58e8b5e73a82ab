from typing import Any

import pyotp
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.accounts.models import User
from gonghui.accounts.services import totp_secret


class Command(BaseCommand):
    help = "Print the current TOTP code of a user (for operators with shell access, and the demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError("no such user")
        secret = totp_secret(user)
        if secret is None:
            raise CommandError("this user has no TOTP secret yet; it is created at their first login")
        self.stdout.write(pyotp.TOTP(secret).now())
