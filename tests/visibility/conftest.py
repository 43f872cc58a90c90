import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The factories set a password on every user; hashing it the production way costs seconds here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
