from django.urls import path

from . import views

# The JSON API (api/keys…) is declared on api.router, mounted in phoenix/urls.py.
urlpatterns = [
    path("settings/api", views.api_keys, name="api_keys_page"),
    path("settings/api/<uuid:key_id>/revoke", views.api_key_revoke, name="api_key_revoke"),
]
