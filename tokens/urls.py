from django.urls import path

from . import api, views

urlpatterns = [
    path("tokens", views.token_history, name="token_history"),
    path("tokens/buy", views.token_buy, name="token_buy"),
    path("tokens/purchases/<uuid:purchase_id>", views.token_purchase, name="token_purchase"),
    path("api/tokens/packs", api.packs_list, name="api_token_packs"),
    path("api/tokens/checkout", api.checkout, name="api_token_checkout"),
    path(
        "api/tokens/purchases/<uuid:purchase_id>",
        api.purchase_status,
        name="api_token_purchase",
    ),
    path("api/tokens/balance", api.balance, name="api_token_balance"),
    path("stripe/webhook", api.stripe_webhook, name="stripe_webhook"),
]
