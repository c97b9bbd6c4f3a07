from django.contrib import admin
from django.urls import include, path

from creations import api as creations_api
from creations import staff_views
from creations import views as creations_views
from profiles import views as profiles_views

urlpatterns = [
    path("", creations_views.feed, name="feed"),
    path("create", creations_views.create_page, name="create"),
    path("soho/<str:username>", profiles_views.profile, name="profile"),
    path("accounts/signup/", profiles_views.signup, name="signup"),
    path("accounts/login/", profiles_views.LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/generate/creation", creations_api.generate_creation, name="generate_creation"),
    path("api/creations/<uuid:creation_id>", creations_api.creation_status, name="creation_status"),
    path(
        "media/creations/<uuid:creation_id>/<str:which>",
        creations_views.creation_media,
        name="creation_media",
    ),
    path("creations/<uuid:creation_id>/card", creations_views.creation_card, name="creation_card"),
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
    path("staff/metrics", staff_views.metrics_page, name="staff_metrics"),
    path("staff/analytics", staff_views.analytics_page, name="staff_analytics"),
    path("metrics", staff_views.prometheus_metrics, name="prometheus_metrics"),
    path("admin/", admin.site.urls),
]
