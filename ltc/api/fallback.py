"""The answer for a path under /api/ that names no endpoint: the API's JSON 404 envelope.

Without it Django's URL resolver answers an HTML page (the debug page in the embedded mode), e.g. for
`/api/v1/customers/abc/` where the route expects a number.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    # The path names nothing, whoever asks: no 401 or 403 before the 404, no throttle slot used.
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Raised here rather than in a handler: any method (even one no endpoint has) is a 404, not a 405.
        raise exceptions.NotFound()
