from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.accounts.models import User
from gonghui.accounts.services import totp_current_code
from gonghui.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Print the current TOTP code of a user (for operators with shell access, and the demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError("no such user")
        try:
            code, used = totp_current_code(user=user)
        except ValidationFailed:
            raise CommandError("this user has no TOTP secret yet; it is created at their first login") from None
        self.stdout.write(code)
        if used:
            self.stderr.write("this code has been used to sign in already; the next one comes within 30 seconds")
