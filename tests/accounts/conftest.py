import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hundreds of logins per test: a fast hasher, so the time goes to what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
