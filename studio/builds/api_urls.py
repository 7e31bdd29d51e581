from django.urls import path

from . import api

app_name = "builds_api"

urlpatterns = [
    path("skills/<int:skill_id>/builds/", api.SkillBuildsApi.as_view(), name="skill-builds"),
    path("skills/<int:skill_id>/builds/estimates/", api.SkillBuildEstimatesApi.as_view(), name="skill-build-estimates"),
    path("skills/<int:skill_id>/rollback/", api.SkillRollbackApi.as_view(), name="skill-rollback"),
    path("builds/<int:build_id>/", api.BuildDetailApi.as_view(), name="build-detail"),
    path("builds/<int:build_id>/cancel/", api.BuildCancelApi.as_view(), name="build-cancel"),
    path("builds/<int:build_id>/deploy/", api.BuildDeployApi.as_view(), name="build-deploy"),
    path("builds/<int:build_id>/retry/", api.BuildRetryApi.as_view(), name="build-retry"),
]
