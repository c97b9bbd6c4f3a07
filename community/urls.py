from django.urls import path

from . import views

urlpatterns = [
    path("explore", views.explore, name="explore"),
    path("p/<uuid:creation_id>/like", views.like_toggle, name="post_like_toggle"),
    path("p/<uuid:creation_id>/comments", views.comment_create, name="post_comment_create"),
    path(
        "p/<uuid:creation_id>/comments/<uuid:post_comment_id>/delete",
        views.comment_delete,
        name="post_comment_delete",
    ),
    path("soho/<str:username>/follow", views.follow_toggle, name="follow_toggle"),
]
