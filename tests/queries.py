"""What a signed-in request costs before the page's own queries, for the tests that pin them
(``tests/accounts/test_signed_in_user.py`` measures both on empty pages)."""

from django.conf import settings

# The session, unless it comes from the cache (``cached_db`` with Redis, as in ``make test`` and
# production), and the user: read on every request.
USER_QUERIES = (0 if settings.SESSION_ENGINE.endswith("cached_db") else 1) + 1
# Then the user's own permissions and their groups': read on every request that asks one, as
# every page does for its navigation.
SIGN_IN_QUERIES = USER_QUERIES + 2
