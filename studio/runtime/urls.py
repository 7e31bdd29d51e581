from django.urls import path

from . import views

app_name = "console"

S = "console/<uuid:session_id>/"

urlpatterns = [
    path("skills/<int:skill_id>/console/", views.console_view, name="start"),
    path("skills/<int:skill_id>/console/apis/<str:api>/", views.binding_view, name="binding"),
    path(S, views.session_view, name="session"),
    path(S + "turns/", views.turn_view, name="turn"),
    path(S + "turns/<int:number>/correct/", views.correct_view, name="correct"),
    path(S + "reset/", views.reset_view, name="reset"),
    path(S + "save/", views.save_view, name="save"),
]
