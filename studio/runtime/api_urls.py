from django.urls import path

from . import api

app_name = "runtime_api"

urlpatterns = [
    path("skills/<int:skill_id>/sessions/", api.SkillSessionsApi.as_view(), name="skill-sessions"),
    path("sessions/<uuid:session_id>/", api.SessionDetailApi.as_view(), name="session-detail"),
    path("sessions/<uuid:session_id>/turns/", api.SessionTurnsApi.as_view(), name="session-turns"),
]
