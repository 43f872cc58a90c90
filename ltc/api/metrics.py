"""GET /api/v1/metrics/funnel/: the live funnel figures (ltc.selectors.funnel_metrics) for BI tools.

Scope "metrics:read" (or "*:read", or "admin"). Every figure goes through the visibility selectors: a rep-scoped
client sees its records' figures, a manager their subtree's.

Query parameters (all optional): `period_start` / `period_end` (YYYY-MM-DD, inclusive; default: the current
quarter, or the quarter of the one date given), `org_unit` (an id; its subtree), `owner` (a person's id),
`customer_tier` (S/A/B/C), `group_by` (org_unit / owner / customer_tier / month: one funnel per group).

A filter naming an org unit or person that does not exist, or that lies wholly outside what the caller may see
(another branch, a peer), is a 400 with a field error: the figures would otherwise read as a true zero. An
org unit *above* the caller (a rep asking for their region) is allowed and answers the caller's part of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import OrgUnit, User
from accounts.selectors import Scope, org_unit_visible_to, scope_for, user_visible_to
from ltc.api.filters import MAX_ID
from ltc.api.views import ApiView
from ltc.errors import ApplicationError
from ltc.selectors import (
    GROUP_BY_CHOICES,
    OPEN_STAGES,
    ZERO,
    FunnelFilter,
    funnel_group_labels,
    funnel_metrics,
)
from relationships.models import CustomerTier

# The dates a period may span: wide enough for any ERP history, narrow enough that the day after the end
# and the time-zone conversion of both bounds stay valid dates.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar quarter containing `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    next_start = dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
    return start, next_start - dt.timedelta(days=1)


# --- Input --------------------------------------------------------------------------------------------------


class FunnelQuerySerializer(serializers.Serializer):
    period_start = serializers.DateField(
        required=False, help_text="First day, YYYY-MM-DD (default: the first day of the quarter)."
    )
    period_end = serializers.DateField(
        required=False, help_text="Last day, inclusive, YYYY-MM-DD (default: the last day of the quarter)."
    )
    org_unit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="An org unit id; includes every unit below it.",
    )
    owner = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="A person's id: records they own."
    )
    customer_tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)
    group_by = serializers.ChoiceField(
        choices=[(choice, choice) for choice in GROUP_BY_CHOICES],
        required=False,
        help_text="One funnel per group as well as the totals: the record's own org unit or owner (no "
        "subtree roll-up), customer tier, or month (YYYY-MM).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("period_start"), attrs.get("period_end")
        errors: dict[str, list[str]] = {}
        for name, value in (("period_start", start), ("period_end", end)):
            if value is not None and not EARLIEST <= value <= LATEST:
                errors[name] = [
                    _("A date from %(first)s to %(last)s. 日期须在 %(first)s 至 %(last)s 之间。")
                    % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
                ]
        if errors:
            raise serializers.ValidationError(errors)
        if start is None and end is None:
            start, end = quarter_of(timezone.localdate())
        elif start is None:
            start = quarter_of(end)[0]
        elif end is None:
            end = quarter_of(start)[1]
        if end < start:
            raise serializers.ValidationError(
                {"period_end": [_("The end is before the start. 结束日期早于开始日期。")]}
            )
        attrs["period_start"], attrs["period_end"] = start, end
        return attrs


# --- Output -------------------------------------------------------------------------------------------------


class FunnelCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class FunnelFigureSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=None, decimal_places=2, help_text="A decimal string.")


class FunnelStagesSerializer(serializers.Serializer):
    leads = FunnelFigureSerializer(help_text="Leads created in the period (estimated amount).")
    qualified = FunnelCountSerializer(help_text="Of those, graded A–C or converted.")
    converted = FunnelCountSerializer(help_text="Of those, converted into an opportunity.")
    opportunities = FunnelFigureSerializer(help_text="Opportunities created in the period.")
    won = FunnelFigureSerializer(help_text="Opportunities won in the period.")
    lost = FunnelFigureSerializer(help_text="Opportunities lost in the period.")
    abandoned = FunnelCountSerializer(help_text="Opportunities abandoned in the period.")
    contracted = FunnelFigureSerializer(help_text="Contracts signed in the period.")
    invoiced = FunnelFigureSerializer(help_text="Invoices issued in the period (not cancelled).")
    collected = FunnelFigureSerializer(help_text="Receipts received in the period.")


class FunnelOpenPipelineSerializer(serializers.Serializer):
    VALIDATE = FunnelFigureSerializer()
    GUIDE = FunnelFigureSerializer()
    BID = FunnelFigureSerializer()
    NEGOTIATE = FunnelFigureSerializer()


class FunnelRatesSerializer(serializers.Serializer):
    lead_to_opportunity = serializers.FloatField(allow_null=True, help_text="converted ÷ leads")
    win_rate = serializers.FloatField(allow_null=True, help_text="won ÷ (won + lost)")


class FunnelCycleDaysSerializer(serializers.Serializer):
    lead_to_opportunity = serializers.FloatField(allow_null=True)
    opportunity_to_won = serializers.FloatField(allow_null=True)
    signing_to_cash = serializers.FloatField(allow_null=True)


class FunnelFiguresSerializer(serializers.Serializer):
    stages = FunnelStagesSerializer()
    open_pipeline = FunnelOpenPipelineSerializer(
        allow_null=True,
        help_text="Today's open deals per stage (a snapshot, not bound to the period; null for month groups).",
    )
    rates = FunnelRatesSerializer()
    cycle_days = FunnelCycleDaysSerializer(help_text="Mean durations in days.")


class FunnelGroupSerializer(FunnelFiguresSerializer):
    key = serializers.CharField(
        allow_null=True,
        help_text="The org unit or person id, the tier, or YYYY-MM; null: no tier (prospects).",
    )
    label = serializers.CharField(allow_null=True)


class FunnelPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class FunnelOutputSerializer(FunnelFiguresSerializer):
    period = FunnelPeriodSerializer()
    group_by = serializers.ChoiceField(choices=[(c, c) for c in GROUP_BY_CHOICES], allow_null=True)
    groups = FunnelGroupSerializer(many=True, allow_null=True, help_text="Null without group_by.")


# --- The endpoint -------------------------------------------------------------------------------------------


def _not_found(field: str, what: str) -> ApplicationError:
    return ApplicationError(
        _("Please correct the errors below. 请更正以下错误。"),
        extra={field: [what]},
    )


def _org_unit_within_reach(unit: OrgUnit, scope: Scope, user: User) -> bool:
    """Is any of the caller's figures inside `unit`? (the unit is inside the scope, above it, or above the
    caller's own unit)."""
    if scope.everything or scope.covers_unit(unit):
        return True
    if any(path.startswith(unit.path) for path in scope.unit_paths):
        return True
    own = user.org_unit if user.org_unit_id is not None else None
    return own is not None and own.path.startswith(unit.path)


def _open_pipeline(figures: dict[str, dict]) -> dict[str, dict]:
    zero = {"count": 0, "amount": ZERO}
    return {str(stage): figures.get(str(stage), zero) for stage in OPEN_STAGES}


class FunnelMetricsApi(ApiView):
    api_resource = "metrics"

    @extend_schema(
        operation_id="metrics_funnel_retrieve",
        summary="Funnel figures (counts and amounts per LTC stage, win rate, cycle times)",
        parameters=[FunnelQuerySerializer],
        responses={200: FunnelOutputSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A plain dict, not the QueryDict: with a QueryDict DRF reads `?customer_tier=` as "not given" (HTML
        # form semantics); here an empty value is what it looks like, an invalid one.
        query = FunnelQuerySerializer(data=dict(request.query_params.items()))
        query.is_valid(raise_exception=True)
        params = query.validated_data
        user = request.user
        scope = scope_for(user)

        org_unit = None
        if "org_unit" in params:
            org_unit = org_unit_visible_to(user).filter(pk=params["org_unit"]).first()
            if org_unit is None or not _org_unit_within_reach(org_unit, scope, user):
                raise _not_found(
                    "org_unit", _("No such org unit within your reach. 没有此组织，或不在您的可见范围内。")
                )
        owner = None
        if "owner" in params:
            owner = user_visible_to(user).filter(pk=params["owner"]).first()
            if owner is None or not scope.covers_user(owner):
                raise _not_found(
                    "owner", _("No such person within your reach. 没有此人员，或不在您的可见范围内。")
                )

        group_by = params.get("group_by")
        flt = FunnelFilter(
            period_start=params["period_start"],
            period_end=params["period_end"],
            org_unit=org_unit,
            owner=owner,
            customer_tier=params.get("customer_tier") or None,
        )
        figures = funnel_metrics(user=user, flt=flt, scope=scope, group_by=group_by)
        figures["open_pipeline"] = _open_pipeline(figures["open_pipeline"])
        figures["group_by"] = group_by
        groups = figures.pop("groups", None)
        if groups is not None:
            labels = funnel_group_labels(group_by, [group["key"] for group in groups])
            for group in groups:
                key = group["key"]
                group["open_pipeline"] = (
                    None if group_by == "month" else _open_pipeline(group["open_pipeline"])
                )
                group["label"] = labels.get(key)
                group["key"] = None if key is None else str(key)
        figures["groups"] = groups
        return Response(FunnelOutputSerializer(figures).data)
