"""REST APIs of products (read/write), leads and opportunities (read-only: their workflow steps are
explicit action endpoints, never a raw change of `status` or `stage`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ltc.api.bulk import BOOL, DECIMAL, BulkField, BulkSpec
from ltc.api.views import BulkUpsertApi, DetailApi, DetailUpdateApi, ListApi, ListCreateApi
from pipeline.filters import LeadFilter, OpportunityFilter, ProductFilter
from pipeline.models import Lead, Opportunity, Product
from pipeline.selectors import lead_visible_to, opportunity_visible_to, product_visible_to
from pipeline.serializers import (
    LeadOutputSerializer,
    OpportunityOutputSerializer,
    ProductCreateInputSerializer,
    ProductOutputSerializer,
    ProductUpdateInputSerializer,
)
from pipeline.services.products import product_create, product_update

# --- Products --------------------------------------------------------------------------------------------


class ProductListApi(ListCreateApi):
    api_resource = "products"
    filterset_class = ProductFilter
    output_serializer_class = ProductOutputSerializer
    input_serializer_class = ProductCreateInputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_visible_to(self.request.user)

    def perform_create(self, data: dict[str, Any]) -> Product:
        return product_create(actor=self.request.user, **data)


class ProductDetailApi(DetailUpdateApi):
    api_resource = "products"
    output_serializer_class = ProductOutputSerializer
    input_serializer_class = ProductUpdateInputSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return product_visible_to(self.request.user)

    def perform_update(self, instance: Product, data: dict[str, Any]) -> Product:
        return product_update(actor=self.request.user, product=instance, **data)


PRODUCT_BULK = BulkSpec(
    resource="products",
    model=Product,
    visible=lambda actor, scope: Product.objects.all(),
    fields=(
        BulkField("code", required=True, max_length=64, unique=True),
        BulkField("name", required=True, max_length=200),
        BulkField("product_line", required=True, max_length=64),
        BulkField("series", max_length=64),
        BulkField("list_price", DECIMAL, min_value=0),
        BulkField("currency", max_length=3, pattern=r"[A-Z]{3}"),
        BulkField("is_active", BOOL),
    ),
)


class ProductBulkApi(BulkUpsertApi):
    bulk_spec = PRODUCT_BULK


# --- Leads and opportunities (read-only here) ------------------------------------------------------------


class LeadListApi(ListApi):
    api_resource = "leads"
    filterset_class = LeadFilter
    output_serializer_class = LeadOutputSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_visible_to(self.request.user)


class LeadDetailApi(DetailApi):
    api_resource = "leads"
    output_serializer_class = LeadOutputSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        return lead_visible_to(self.request.user)


class OpportunityListApi(ListApi):
    api_resource = "opportunities"
    filterset_class = OpportunityFilter
    output_serializer_class = OpportunityOutputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)


class OpportunityDetailApi(DetailApi):
    api_resource = "opportunities"
    output_serializer_class = OpportunityOutputSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        return opportunity_visible_to(self.request.user)
