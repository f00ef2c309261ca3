"""The portal's root URLconf (portal.urls under the `portal` namespace)."""
from django.urls import include, path

urlpatterns = [path("", include("portal.urls"))]

handler404 = "portal.views.common.not_found"
handler500 = "portal.views.common.server_error"
