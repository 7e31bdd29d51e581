from django.urls import path

from . import views

urlpatterns = [
    path("", views.skill_list_view, name="list"),
    path("skills/<int:skill_id>/", views.skill_detail_view, name="detail"),
    path("skills/<int:skill_id>/<slug:slug>/", views.component_list_view, name="components"),
]
