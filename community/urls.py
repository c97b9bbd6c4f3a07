from django.urls import path

from . import api, views

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
    path("api/posts", api.posts, name="api_posts"),
    path("api/explore", api.explore, name="api_explore"),
    path("api/posts/<uuid:creation_id>", api.post_detail, name="api_post"),
    path("api/posts/<uuid:creation_id>/like", api.post_like, name="api_post_like"),
    path("api/posts/<uuid:creation_id>/comments", api.post_comments, name="api_post_comments"),
    path(
        "api/posts/<uuid:creation_id>/comments/<uuid:post_comment_id>",
        api.post_comment_delete,
        name="api_post_comment",
    ),
    path("api/users/<str:username>/follow", api.user_follow, name="api_user_follow"),
]
