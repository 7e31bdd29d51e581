from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import api
from .components import KINDS, SLOT_TYPES

app_name = "api"

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token"),
    path("skills/", api.SkillListApi.as_view(), name="skill-list"),
    path("skills/import/", api.SkillImportApi.as_view(), name="skill-import"),
    path("skills/<int:skill_id>/", api.SkillDetailApi.as_view(), name="skill-detail"),
    path("skills/<int:skill_id>/validation/", api.SkillValidationApi.as_view(), name="skill-validation"),
    path("skills/<int:skill_id>/export/", api.SkillExportApi.as_view(), name="skill-export"),
    path(
        f"skills/<int:skill_id>/{SLOT_TYPES.slug}/<int:pk>/values/",
        api.SlotTypeValuesApi.as_view(),
        name="slot-type-values",
    ),
]
# One pair of routes per kind of component, e.g. "api:slot-types-list" and "api:slot-types-detail".
for kind in KINDS:
    list_view, detail_view = api.COMPONENT_VIEWS[kind.slug]
    urlpatterns += [
        path(f"skills/<int:skill_id>/{kind.slug}/", list_view.as_view(), name=f"{kind.slug}-list"),
        path(f"skills/<int:skill_id>/{kind.slug}/<int:pk>/", detail_view.as_view(), name=f"{kind.slug}-detail"),
    ]
