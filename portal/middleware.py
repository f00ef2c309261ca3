"""Per-request rules of the portal: pages are not cached, nothing loads from elsewhere (a strict
Content-Security-Policy: only this portal's own styles and scripts), and an account with a
one-time password goes to the change-password page before anything else."""
from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")

_OPEN = ("portal:login", "portal:logout", "portal:password")


class PortalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            acc = getattr(user, "account", None)
            if acc is not None and acc.must_change_password and not request.path.startswith("/static/"):
                allowed = {reverse(n) for n in _OPEN}
                if request.path not in allowed:
                    return redirect("portal:password")
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
            if not getattr(response, "cardcheck_own_csp", False):
                response.setdefault("Content-Security-Policy", CSP)
        return response
