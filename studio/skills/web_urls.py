from django.urls import path

from . import sgd_views, views

# Fixed segments come before the generic "<slug>" component routes, which would otherwise match them.
urlpatterns = [
    path("", views.skill_list_view, name="list"),
    path("skills/new/", views.skill_create_view, name="create"),
    path("skills/import/", views.skill_import_view, name="import"),
    path("skills/import-sgd/", sgd_views.sgd_import_view, name="import_sgd"),
    path("skills/<int:skill_id>/", views.skill_detail_view, name="detail"),
    path("skills/<int:skill_id>/edit/", views.skill_edit_view, name="edit"),
    path("skills/<int:skill_id>/delete/", views.skill_delete_view, name="delete"),
    path("skills/<int:skill_id>/export/", views.skill_export_view, name="export"),
    path("skills/<int:skill_id>/requested-field/", views.requested_field_view, name="requested_field"),
    path("skills/<int:skill_id>/slot-types/<int:pk>/values/", views.slot_type_values_view, name="slot_type_values"),
    path("skills/<int:skill_id>/<slug:slug>/", views.component_list_view, name="components"),
    path("skills/<int:skill_id>/<slug:slug>/new/", views.component_create_view, name="component_create"),
    path("skills/<int:skill_id>/<slug:slug>/<int:pk>/", views.component_view, name="component"),
    path("skills/<int:skill_id>/<slug:slug>/<int:pk>/edit/", views.component_edit_view, name="component_edit"),
    path("skills/<int:skill_id>/<slug:slug>/<int:pk>/delete/", views.component_delete_view, name="component_delete"),
]
