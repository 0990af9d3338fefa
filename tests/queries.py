"""What a signed-in request costs before the page's own queries, for the tests that pin them."""

from django.conf import settings

# With Redis (``make test``, production), the session, the user and their permissions come from
# the cache (accounts/auth.py; tests/conftest.py starts every client warm). Without, Django
# reads them: the session, the user, the user's and their groups' permissions.
SIGN_IN_QUERIES = 0 if "accounts.auth.CachedModelBackend" in settings.AUTHENTICATION_BACKENDS else 4
