from django.urls import path

from . import views

urlpatterns = [
    path("staff/metrics", views.metrics_page, name="staff_metrics"),
    path("staff/analytics", views.analytics_page, name="staff_analytics"),
    path("staff/alerts", views.alerts_page, name="staff_alerts"),
    path("staff/alerts/silence", views.alerts_silence, name="staff_alerts_silence"),
    path("staff/alerts/end-silence", views.alerts_end_silence, name="staff_alerts_end_silence"),
    path("metrics", views.prometheus_metrics, name="prometheus_metrics"),
]
