from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from apikeys import api as apikeys_api
from community import api as community_api
from community import views as community_views
from creations import api as creations_api
from creations import views as creations_views
from library import api as library_api
from moderation import api as moderation_api
from notifications import api as notifications_api
from notifications import views as notifications_views
from phoenix import errors, health
from phoenix.jsonapi import PhoenixAPI
from profiles import bulk as profiles_bulk
from profiles import views as profiles_views
from sharing import api as sharing_api
from tokens import api as tokens_api
from webhooks import api as webhooks_api

# JSON under /api/, the HTML page elsewhere.
handler404 = errors.page_not_found
handler403 = errors.permission_denied
handler500 = errors.server_error

# The JSON API: each app declares its operations on a router; GET /api/schema is generated.
api = PhoenixAPI()
for router in (
    creations_api.router,
    library_api.router,
    sharing_api.router,
    notifications_api.router,
    tokens_api.router,
    webhooks_api.router,
    community_api.router,
    apikeys_api.router,
    moderation_api.router,
):
    api.add_router("", router)

urlpatterns = [
    # The polls first: every open card, drafts tab and bell asks every few seconds, and
    # each pattern tried before costs an answer that is otherwise one Redis read.
    path("creations/<uuid:creation_id>/card", creations_views.creation_card, name="creation_card"),
    path("notifications/bell", notifications_views.notifications_bell, name="notifications_bell"),
    path("creations/drafts/poll", creations_views.drafts_poll, name="drafts_poll"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", community_views.feed, name="feed"),
    path("create", creations_views.create_page, name="create"),
    path("soho/<str:username>", community_views.creator_page, name="profile"),
    path("accounts/signup/", profiles_views.signup, name="signup"),
    # Password, then the code when two-factor sign-in is on (accounts).
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path(
        "accounts/confirm-email/resend",
        profiles_views.confirm_email_resend,
        name="confirm_email_resend",
    ),
    path("accounts/confirm-email/<str:token>/", profiles_views.confirm_email, name="confirm_email"),
    # Django's, throttled, and logging in once the new password is set.
    path(
        "accounts/password_reset/",
        profiles_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include(api.url_patterns())),
    path(
        "media/creations/<uuid:creation_id>/<str:which>",
        creations_views.creation_media,
        name="creation_media",
    ),
    path(
        "creations/<uuid:creation_id>/publish",
        creations_views.creation_publish,
        name="creation_publish",
    ),
    path(
        "creations/<uuid:creation_id>/delete",
        creations_views.creation_delete,
        name="creation_delete",
    ),
    path(
        "creations/<uuid:creation_id>/cancel",
        creations_views.creation_cancel,
        name="creation_cancel",
    ),
    path(
        "creations/<uuid:creation_id>/restore",
        creations_views.creation_restore,
        name="creation_restore",
    ),
    path(
        "creations/<uuid:creation_id>/rerun",
        creations_views.creation_rerun,
        name="creation_rerun",
    ),
    path(
        "creations/<uuid:creation_id>/keep",
        creations_views.creation_keep,
        name="creation_keep",
    ),
    path(
        "creations/<uuid:creation_id>/keep/undo",
        creations_views.creation_unkeep,
        name="creation_unkeep",
    ),
    path(
        "creations/<uuid:creation_id>/purge",
        creations_views.creation_purge,
        name="creation_purge",
    ),
    path(
        "creations/<uuid:creation_id>/unschedule",
        creations_views.creation_unschedule,
        name="creation_unschedule",
    ),
    path(
        "creations/<uuid:creation_id>/unpublish",
        creations_views.creation_unpublish,
        name="creation_unpublish",
    ),
    path(
        "creations/<uuid:creation_id>/caption",
        creations_views.creation_caption,
        name="creation_caption",
    ),
    path(
        "creations/<uuid:creation_id>/prompt-visibility",
        creations_views.creation_prompt_visibility,
        name="creation_prompt_visibility",
    ),
    path("creations/bulk", profiles_bulk.creations_bulk, name="creations_bulk"),
    path("p/<uuid:creation_id>", community_views.post_page, name="post"),
    path("", include("community.urls")),
    path("", include("ops.urls")),
    path("", include("tokens.urls")),
    path("", include("library.urls")),
    path("", include("sharing.urls")),
    path("", include("notifications.urls")),
    path("", include("accounts.urls")),
    path("", include("webhooks.urls")),
    path("", include("apikeys.urls")),
    path("", include("moderation.urls")),
    path("admin/", admin.site.urls),
]
