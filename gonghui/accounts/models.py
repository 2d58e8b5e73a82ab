from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models

from gonghui.core.fields import EncryptedTextField


class UserManager(BaseUserManager["User"]):
    def create_user(self, username: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(username=username, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_staff_user(self, username: str, password: str | None = None, **fields: object) -> "User":
        """A staff account: the only kind of account that may hold a role (see
        `organizations.services.role_grant`). Member accounts come from `create_user`."""
        return self.create_user(username, password, is_staff_account=True, **fields)


class User(AbstractBaseUser):
    """A person who signs in: staff with a password (and TOTP for 管理员/审计员), members with
    their phone and an SMS code. What a user may do comes from role assignments and the
    member record, never from flags on this row; `is_staff_account` only says which kind of
    account it is, and a member's account can never hold a role.

    The TOTP secret is encrypted at rest. `totp_last_t` is the time step of the last accepted
    code (a code is good once), and `totp_failures`/`totp_failed_at` throttle wrong codes with
    an exponential back-off, as django-otp's `ThrottlingMixin` does."""

    username = models.CharField("用户名", max_length=64, unique=True)
    display_name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("手机号", max_length=11, blank=True, db_index=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    totp_secret_encrypted = EncryptedTextField(blank=True, purpose="user.totp")
    totp_confirmed = models.BooleanField(default=False)
    totp_last_t = models.BigIntegerField(default=-1)
    totp_failures = models.PositiveIntegerField(default=0)
    totp_failed_at = models.DateTimeField(null=True, blank=True)
    is_staff_account = models.BooleanField("工作人员账号", default=False)

    objects = UserManager()  # type: ignore[misc]

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []

    def __str__(self) -> str:
        return self.display_name or self.username


class SmsCode(models.Model):
    """A one-time login code for a member's phone: stored hashed, single use, expires."""

    phone = models.CharField(max_length=11, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
