"""Log-in protection: the brute-force lock-out and the security log.

A user name tried from one address is locked out for ``LTC["LOGIN_LOCKOUT_MINUTES"]`` after
``LTC["LOGIN_MAX_FAILURES"]`` failures that fall within that many minutes of each other. While locked,
the password is not even checked (a right password is refused too) and the refused attempt is not
counted, so the lock ends exactly that many minutes after the last failure. A successful log-in clears
the failures of that user name and address.

The lock is enforced in the authentication backend, so it covers every form that calls
``django.contrib.auth.authenticate`` (the log-in page and the admin's log-in page alike).
Events go to the ``ltc.security`` logger.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import LoginFailure

security_log = logging.getLogger("ltc.security")


def _max_failures() -> int:
    return int(settings.LTC["LOGIN_MAX_FAILURES"])


def _lockout_window() -> timedelta:
    return timedelta(minutes=int(settings.LTC["LOGIN_LOCKOUT_MINUTES"]))


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address: REMOTE_ADDR, or the last X-Forwarded-For hop when a trusted proxy adds it."""
    if request is None:
        return None
    meta = request.META
    if settings.LTC.get("TRUST_X_FORWARDED_FOR"):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return meta.get("REMOTE_ADDR") or None


def login_locked_until(*, username: str, ip_address: str | None) -> datetime | None:
    """When the lock-out of this user name from this address ends, or None if it is not locked."""
    limit = _max_failures()
    window = _lockout_window()
    recent = list(
        LoginFailure.objects.filter(username=username[:150], ip_address=ip_address)
        .order_by("-failed_at")
        .values_list("failed_at", flat=True)[:limit]
    )
    if len(recent) < limit or recent[0] - recent[-1] > window:
        return None
    until = recent[0] + window
    return until if until > timezone.now() else None


def login_failure_record(*, username: str, ip_address: str | None) -> datetime | None:
    """Count one failed log-in. Returns the end of the lock-out if this failure starts one."""
    now = timezone.now()
    # Failures older than two windows can no longer take part in a lock-out.
    LoginFailure.objects.filter(
        username=username[:150], ip_address=ip_address, failed_at__lt=now - 2 * _lockout_window()
    ).delete()
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address)
    security_log.warning("login failed user=%r ip=%s", username, ip_address)
    until = login_locked_until(username=username, ip_address=ip_address)
    if until is not None:
        security_log.warning(
            "login lock-out started user=%r ip=%s failures=%d until=%s",
            username,
            ip_address,
            _max_failures(),
            until.isoformat(),
        )
    return until


def login_failures_clear(*, username: str, ip_address: str | None) -> None:
    LoginFailure.objects.filter(username=username[:150], ip_address=ip_address).delete()


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses locked-out user names and counts failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip_address = client_ip(request)
        until = login_locked_until(username=username, ip_address=ip_address)
        if until is not None:
            security_log.warning(
                "login refused (locked out) user=%r ip=%s until=%s", username, ip_address, until.isoformat()
            )
            # PermissionDenied stops authenticate() from trying any other backend.
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, ip_address=ip_address)
            return None
        login_failures_clear(username=username, ip_address=ip_address)
        security_log.info("login succeeded user=%r id=%s ip=%s", username, user.pk, ip_address)
        return user


class LockoutAuthenticationForm(AuthenticationForm):
    """The log-in form: says plainly when the user name is locked out, in both languages."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Your user name and password did not match. Both are case-sensitive. "
            "用户名或密码错误（区分大小写）。"
        ),
        "inactive": _("This account is inactive. 该账号已停用。"),
        "locked_out": _(
            "Too many failed log-ins: this user name is locked from your address for %(minutes)d more "
            "minutes. 登录失败次数过多，该用户名在此地址已被锁定，请 %(minutes)d 分钟后再试。"
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            until = login_locked_until(username=username, ip_address=client_ip(self.request))
            if until is not None:
                security_log.warning(
                    "login refused (locked out) user=%r ip=%s until=%s",
                    username,
                    client_ip(self.request),
                    until.isoformat(),
                )
                minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
                raise ValidationError(
                    self.error_messages["locked_out"], code="locked_out", params={"minutes": minutes}
                )
        return super().clean()


class LtcLoginView(LoginView):
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True
