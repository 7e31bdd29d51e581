from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("studio.skills.api_urls")),
    path("api/", include("studio.builds.api_urls")),
    path("api/", include("studio.runtime.api_urls")),
    # Before the skill pages: their generic "skills/<id>/<kind>/" route would match "builds/".
    path("", include("studio.builds.urls")),
    path("", include("studio.runtime.urls")),
    path("", include("studio.skills.urls")),
]
