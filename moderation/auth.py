"""A suspended account signs in to read the decision and appeal it, and for nothing else.

A suspension makes the account inactive, and Django's ModelBackend refuses every inactive
account: at sign-in and for each request of a session it made. This backend, listed after
it (settings.AUTHENTICATION_BACKENDS), admits the one inactive account a suspension that is
not reversed keeps out; SuspendedAccountMiddleware (moderation.middleware) then lets such a
session open only the decision pages, the appeal and its notices. A session from before the
suspension was made by ModelBackend, and ends with it.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from . import selectors


class SuspendedAccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        users = get_user_model()
        if username is None:
            username = kwargs.get(users.USERNAME_FIELD)
        if username is None or password is None:
            return None
        # Looked up first, the password hashed only for a suspended account: a wrong
        # password for any other has already cost ModelBackend its one hashing.
        user = users._default_manager.filter(
            **{users.USERNAME_FIELD: username}, is_active=False
        ).first()
        if user is None or selectors.suspension_of(user) is None:
            return None
        return user if user.check_password(password) else None

    def user_can_authenticate(self, user) -> bool:
        # Inactive, ModelBackend gives it no permissions whatever this says.
        return user.is_active or selectors.suspension_of(user) is not None
