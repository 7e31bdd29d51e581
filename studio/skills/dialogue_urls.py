from django.urls import path

from . import dialogue_views

urlpatterns = [
    path("skills/<int:skill_id>/dialogues/", dialogue_views.dialogue_list_view, name="dialogues"),
]
