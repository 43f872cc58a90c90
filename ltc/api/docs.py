"""The API docs pages: Swagger UI and Redoc from drf_spectacular_sidecar's static files (no CDN)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

# Content Security Policy of the docs pages: everything from this origin (the sidecar's static files);
# `img-src 'self' data:` also stops Redoc's logo request.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


class _DocsCspMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerDocsView(_DocsCspMixin, SpectacularSwaggerView):
    pass


class RedocDocsView(_DocsCspMixin, SpectacularRedocView):
    # The stock template loads Google Fonts; ours does not.
    template_name = "ltc/api/redoc.html"
