from django.urls import path

from . import views

app_name = "builds"

urlpatterns = [
    path("skills/<int:skill_id>/builds/", views.build_list_view, name="list"),
    path("skills/<int:skill_id>/builds/compare/", views.build_compare_view, name="compare"),
    path("skills/<int:skill_id>/rollback/", views.skill_rollback_view, name="rollback"),
    path("builds/<int:build_id>/", views.build_detail_view, name="detail"),
    path("builds/<int:build_id>/dialogues/", views.build_dialogues_view, name="dialogues"),
    path("builds/<int:build_id>/cancel/", views.build_cancel_view, name="cancel"),
    path("builds/<int:build_id>/deploy/", views.build_deploy_view, name="deploy"),
    path("builds/<int:build_id>/retry/", views.build_retry_view, name="retry"),
]
