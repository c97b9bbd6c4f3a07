from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/bare", views.bare, name="bench_bare"),
    path("bench/debit", views.debit, name="bench_debit"),
    path("bench/poll/<uuid:creation_id>", views.poll, name="bench_poll"),
    path("", include("phoenix.urls")),
]
