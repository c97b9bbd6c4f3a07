from django.urls import path

from . import api, views

# The JSON API (api/tokens/…) is declared on api.router, mounted in phoenix/urls.py.
urlpatterns = [
    path("tokens", views.token_history, name="token_history"),
    path("tokens/buy", views.token_buy, name="token_buy"),
    path("tokens/purchases/<uuid:purchase_id>", views.token_purchase, name="token_purchase"),
    path("stripe/webhook", api.stripe_webhook, name="stripe_webhook"),
]
