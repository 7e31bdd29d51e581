from django.urls import path

from . import dialogue_views as views

D = "skills/<int:skill_id>/dialogues/<int:dialogue_id>/"

urlpatterns = [
    path("skills/<int:skill_id>/dialogues/", views.dialogue_list_view, name="dialogues"),
    path(D, views.dialogue_editor_view, name="dialogue"),
    path(D + "delete/", views.dialogue_delete_view, name="dialogue_delete"),
    path(D + "settings/", views.dialogue_settings_view, name="dialogue_settings"),
    path(D + "turns/", views.user_turn_add_view, name="dialogue_user_turn_add"),
    path(D + "turns/<int:turn>/text/", views.user_turn_edit_view, name="dialogue_user_turn_edit"),
    path(D + "turns/<int:turn>/delete/", views.turn_remove_view, name="dialogue_turn_remove"),
    path(D + "turns/<int:turn>/spans/", views.span_add_view, name="dialogue_span_add"),
    path(D + "turns/<int:turn>/spans/<str:span_id>/delete/", views.span_remove_view, name="dialogue_span_remove"),
    path(D + "actions/", views.action_add_view, name="dialogue_action_add"),
    path(D + "actions/arguments/", views.action_arguments_view, name="dialogue_action_arguments"),
    path(D + "turns/<int:turn>/actions/<int:action>/delete/", views.action_remove_view, name="dialogue_action_remove"),
]
