"""/api/v1/webhooks/: an API client's own webhook subscriptions and their delivery log, and replays.

Only API clients (token auth) have subscriptions: reads need "webhooks:read", create / delete / replay
"webhooks:write". A client sees and touches only its own subscriptions and deliveries (others' are 404).
The signing secret is in the 201 response of the create and never again.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ltc.api.concurrency import etag_for
from ltc.api.filters import ApiFilterSet, id_filter
from ltc.api.permissions import api_client_of
from ltc.api.serializers import OutputSerializer
from ltc.api.views import DetailApi, ListApi
from ltc.models import (
    ApiClient,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from ltc.webhooks.selectors import delivery_list_for, subscription_list_for
from ltc.webhooks.services import subscription_create, subscription_delete, webhook_delivery_replay

EVENT_CHOICES = [*WebhookEventType.values, WebhookSubscription.ALL_EVENTS]


# --- Serializers -------------------------------------------------------------------------------------


class SubscriptionOutputSerializer(OutputSerializer):
    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "target_url",
            "event_types",
            "is_active",
            "org_unit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SubscriptionCreatedSerializer(SubscriptionOutputSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The HMAC signing secret: shown in this response only, store it now."
    )

    class Meta(SubscriptionOutputSerializer.Meta):
        fields = [*SubscriptionOutputSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriptionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128)
    target_url = serializers.URLField(max_length=500, help_text="http(s) URL that receives the POSTs.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        min_length=1,
        max_length=len(EVENT_CHOICES),
        help_text='Event types, or ["*"] for every event.',
    )


class AttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDeliveryAttempt
        fields = [
            "number",
            "trigger",
            "started_at",
            "duration_ms",
            "status_code",
            "response_body",
            "error",
            "succeeded",
        ]
        read_only_fields = fields


class DeliveryOutputSerializer(OutputSerializer):
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    object_type = serializers.CharField(source="event.obj_type", read_only=True)
    object_id = serializers.IntegerField(source="event.obj_id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_type",
            "object_type",
            "object_id",
            "status",
            "attempts",
            "failures",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliveryOutputSerializer):
    attempt_log = AttemptOutputSerializer(many=True, read_only=True)

    class Meta(DeliveryOutputSerializer.Meta):
        fields = [*DeliveryOutputSerializer.Meta.fields, "attempt_log"]
        read_only_fields = fields


class DeliveryFilter(ApiFilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDeliveryStatus.choices)
    event_type = django_filters.ChoiceFilter(field_name="event__event_type", choices=WebhookEventType.choices)
    subscription = id_filter("subscription_id", "A subscription id.")

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []


# --- Views -------------------------------------------------------------------------------------------


class WebhookApiMixin:
    api_resource = "webhooks"

    def client(self) -> ApiClient:
        client = api_client_of(self.request)  # type: ignore[attr-defined]
        if client is None:
            raise exceptions.PermissionDenied(
                _(
                    "Webhook subscriptions belong to API clients; administrators manage them in the admin. "
                    "Webhook 订阅属于 API 客户端；管理员请在后台管理。"
                )
            )
        return client

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)  # type: ignore[misc]
        self.client()

    def subscriptions(self) -> QuerySet[WebhookSubscription]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no client
            return WebhookSubscription.objects.none()
        return subscription_list_for(self.client())

    def deliveries(self) -> QuerySet[WebhookDelivery]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return delivery_list_for(self.client())


class SubscriptionListCreateApi(WebhookApiMixin, ListApi):
    output_serializer_class = SubscriptionOutputSerializer
    input_serializer_class = SubscriptionInputSerializer
    creates = True

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return self.subscriptions()

    @extend_schema(responses={201: SubscriptionCreatedSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input()
        client = self.client()
        subscription, secret = subscription_create(
            name=data["name"],
            target_url=data["target_url"],
            event_types=data["event_types"],
            api_client=client,
            actor=request.user,
        )
        subscription.secret = secret
        body = SubscriptionCreatedSerializer(subscription, context=self.output_context()).data
        headers = {
            "ETag": etag_for(subscription),
            "Location": request.build_absolute_uri(f"{request.path}{subscription.pk}/"),
        }
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class SubscriptionDetailApi(WebhookApiMixin, DetailApi):
    output_serializer_class = SubscriptionOutputSerializer

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return self.subscriptions()

    @extend_schema(responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription_delete(subscription=self.get_object(), api_client=self.client())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(WebhookApiMixin, ListApi):
    output_serializer_class = DeliveryOutputSerializer
    filterset_class = DeliveryFilter
    cursor_ordering = ("id",)

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return self.deliveries()


class DeliveryDetailApi(WebhookApiMixin, DetailApi):
    output_serializer_class = DeliveryDetailSerializer

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return self.deliveries().prefetch_related("attempt_log")


class DeliveryReplayApi(WebhookApiMixin, DetailApi):
    """POST: send the delivery again now (a new attempt, logged as a replay). 202: queued."""

    output_serializer_class = DeliveryOutputSerializer
    http_method_names = ["post", "options"]

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        return self.deliveries()

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delivery = webhook_delivery_replay(
            delivery=self.get_object(), actor=request.user, api_client=self.client()
        )
        delivery = self.deliveries().get(pk=delivery.pk)
        return Response(self.render(delivery), status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path(
        "webhooks/subscriptions/",
        SubscriptionListCreateApi.as_view(),
        name="api-webhook-subscription-list",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/",
        SubscriptionDetailApi.as_view(),
        name="api-webhook-subscription-detail",
    ),
    path("webhooks/deliveries/", DeliveryListApi.as_view(), name="api-webhook-delivery-list"),
    path("webhooks/deliveries/<int:pk>/", DeliveryDetailApi.as_view(), name="api-webhook-delivery-detail"),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        DeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
]
