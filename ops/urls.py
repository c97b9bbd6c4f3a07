from django.urls import path

from . import views

urlpatterns = [
    path("staff/metrics", views.metrics_page, name="staff_metrics"),
    path("staff/analytics", views.analytics_page, name="staff_analytics"),
    path("metrics", views.prometheus_metrics, name="prometheus_metrics"),
]
