from django.urls import path

from . import views

urlpatterns = [
    path("creations/<uuid:creation_id>/star", views.creation_star, name="creation_star"),
    path("library/boards", views.board_create, name="library_board_create"),
    path("library/boards/add", views.board_add, name="library_board_add"),
    path("library/boards/<uuid:board_id>/rename", views.board_rename, name="library_board_rename"),
    path("library/boards/<uuid:board_id>/delete", views.board_delete, name="library_board_delete"),
    path("library/boards/<uuid:board_id>/remove", views.board_remove, name="library_board_remove"),
]
