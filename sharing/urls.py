from django.urls import path

from . import board_views, views

urlpatterns = [
    path("creations/<uuid:creation_id>/sharing", views.creation_sharing, name="creation_sharing"),
    path(
        "creations/<uuid:creation_id>/sharing/<uuid:share_id>/revoke",
        views.share_revoke,
        name="share_revoke",
    ),
    path("creations/<uuid:creation_id>/shared", views.shared_draft, name="shared_draft"),
    path("creations/<uuid:creation_id>/comments", views.comments, name="comments"),
    path(
        "creations/<uuid:creation_id>/comments/<uuid:comment_id>/delete",
        views.comment_delete,
        name="comment_delete",
    ),
    path("s/<str:token>", views.share_link, name="share_link"),
    path("boards/<uuid:board_id>/sharing", board_views.board_sharing, name="board_sharing"),
    path(
        "boards/<uuid:board_id>/sharing/<uuid:link_id>/revoke",
        board_views.board_link_revoke,
        name="board_link_revoke",
    ),
    path("boards/<uuid:board_id>", board_views.shared_board, name="shared_board"),
    path("creations/<uuid:creation_id>/decline", views.share_decline, name="share_decline"),
    path("people/<str:username>/block", views.person_block, name="person_block"),
    path("people/<str:username>/unblock", views.person_unblock, name="person_unblock"),
    path("settings/blocked", views.blocked_people, name="blocked_people"),
]
