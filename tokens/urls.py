from django.urls import path

from . import views

urlpatterns = [
    path("tokens", views.token_history, name="token_history"),
]
