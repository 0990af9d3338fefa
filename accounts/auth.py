"""Who is signed in, and what they may do, kept in the shared cache between requests.

Every page needs the signed-in user and their permissions. Django's ``ModelBackend`` reads
them from the database on every request: three queries, about half of what an empty page
costs. This backend keeps the three together in the cache, one read per request, and forgets
them as soon as they change:

* a user's own row (password, ``is_active``, ``is_superuser``, names): saving or deleting the
  user drops what is kept for them;
* roles and permissions (anyone's groups, a group's permissions, direct permissions, a group or
  a permission deleted): any change renews a generation token, and whatever was kept under
  another generation is read again from the database.

Both forget again once the change is committed, so a request that read the old rows in between
cannot keep them. ``KEPT_SECONDS`` bounds how long anything is kept, for writes no signal sees
(raw SQL). The session's own check still runs on every request: a changed password ends the
other sessions at once, as with Django's backend.

Settings use it only with a cache all processes share (Redis): with each process's own memory,
a change made in one process would not be seen by the others until ``KEPT_SECONDS`` passed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

KEPT_SECONDS = 300
GENERATION_KEY = "skam:auth:generation"


def _user_key(user_id: object) -> str:
    # The database's name keeps apart test runs and instances that share one Redis.
    return f"skam:auth:{connection.settings_dict['NAME']}:user:{user_id}"


def _after_commit_too(forget: Callable[[], None]) -> None:
    forget()
    if connection.in_atomic_block:
        transaction.on_commit(forget)


def forget_user(user_id: object) -> None:
    """Drop what is kept for one user (their row changed)."""
    _after_commit_too(lambda: cache.delete(_user_key(user_id)))


def forget_everyone() -> None:
    """Roles or permissions changed: whatever is kept is read again."""
    _after_commit_too(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, None))


class CachedModelBackend(ModelBackend):
    """``ModelBackend``, with the user and their permissions kept between requests."""

    def get_user(self, user_id: object) -> object:
        key = _user_key(user_id)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
            generation = cache.get(GENERATION_KEY)
        kept = found.get(key)
        if kept is not None and kept["generation"] == generation:
            user = kept["user"]
            return user if self.user_can_authenticate(user) else None
        user = super().get_user(user_id)
        if user is None:
            return None
        # Read now, with the user: Django keeps them on the user object (``_user_perm_cache``,
        # ``_group_perm_cache``), so the next request finds all three in one read.
        self.get_all_permissions(user)
        cache.set(key, {"generation": generation, "user": user}, KEPT_SECONDS)
        return user


def _user_changed(sender: type, instance: object, **kwargs: object) -> None:
    forget_user(instance.pk)


def _roles_changed(sender: type, **kwargs: object) -> None:
    forget_everyone()


def connect_signals() -> None:
    """Called once the apps are ready (``AccountsConfig.ready``)."""
    from accounts.models import User  # noqa: PLC0415

    post_save.connect(_user_changed, sender=User, dispatch_uid="auth-cache-user-save")
    post_delete.connect(_user_changed, sender=User, dispatch_uid="auth-cache-user-delete")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_roles_changed, sender=through, dispatch_uid=f"auth-cache-{through}")
    for model in (Group, Permission):
        post_save.connect(_roles_changed, sender=model, dispatch_uid=f"auth-cache-{model}-save")
        post_delete.connect(_roles_changed, sender=model, dispatch_uid=f"auth-cache-{model}-del")
