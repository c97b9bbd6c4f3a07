from django.urls import path

from . import staff_views, views

urlpatterns = [
    path("report/post/<uuid:creation_id>", views.report_post_page, name="report_post"),
    path("report/comment/<uuid:comment_id>", views.report_comment_page, name="report_comment"),
    path("moderation/decisions/<uuid:action_id>", views.decision_page, name="moderation_decision"),
    path("moderation/reports", views.my_reports, name="moderation_my_reports"),
    path("staff/moderation", staff_views.queue_page, name="staff_moderation"),
    path(
        "staff/moderation/cases/<uuid:case_id>/assign",
        staff_views.case_assign,
        name="staff_case_assign",
    ),
    path(
        "staff/moderation/cases/<uuid:case_id>/notes", staff_views.case_note, name="staff_case_note"
    ),
    path(
        "staff/moderation/cases/<uuid:case_id>/decide",
        staff_views.case_decide,
        name="staff_case_decide",
    ),
    path("staff/appeals", staff_views.appeals_page, name="staff_appeals"),
    path(
        "staff/appeals/<uuid:action_id>/decide",
        staff_views.appeal_decide,
        name="staff_appeal_decide",
    ),
]
