"""A real OpenID Connect provider for the single sign-on tests: django-oidc-provider in a small
Django project of its own (its settings, its SQLite database, its users and groups), started on
127.0.0.1 by ``serve.py`` in a subprocess (``tests/accounts/sso_provider.py``). Never imported by
SKAM's own settings or tests in-process: it is another server, reached over HTTP only."""
