from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/code", views.login_code, name="login_code"),
    path("settings/security", views.security, name="account_security"),
    path("settings/security/enable", views.security_enable, name="account_security_enable"),
    path("settings/security/disable", views.security_disable, name="account_security_disable"),
    path(
        "settings/security/recovery-codes",
        views.security_recovery_codes,
        name="account_recovery_codes",
    ),
    path("settings/email", views.email_change, name="account_email"),
    path(
        "settings/email/confirm/<str:token>/",
        views.email_change_confirm,
        name="email_change_confirm",
    ),
    path("settings/data", views.account_data, name="account_data"),
    path("settings/data/export", views.export_create, name="account_export"),
    path(
        "settings/data/export/<uuid:export_id>",
        views.export_download,
        name="account_export_download",
    ),
    path("settings/delete", views.account_delete, name="account_delete"),
]
