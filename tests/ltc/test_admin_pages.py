"""Every model of the five apps has an admin whose pages render, and whose changelist costs the same number of
queries with one row as with many (no N+1)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteMixin, ForeignKeyRawIdWidget, ManyToManyRawIdWidget
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import CappedCountPaginator
from accounts.models import LoginFailure
from ltc.api.services import api_client_create
from ltc.models import BulkUpsertAudit, IdempotencyRecord
from pipeline.models import LeadTransition
from relationships.models import Customer, CustomerEvent, RelationshipActionItem
from tests.contracts.test_constraints import build_change, build_sequence
from tests.factories import (
    ContactFactory,
    ContractFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    InvoiceFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    OrgUnitFactory,
    PaymentMilestoneFactory,
    ProductFactory,
    ReceiptFactory,
    UserFactory,
    VisitFactory,
)
from tests.ltc.test_constraints import (
    build_funnel_rollup,
    build_kpi_target,
    build_webhook_attempt,
    build_webhook_delivery,
    build_webhook_event,
    build_webhook_subscription,
)
from tests.pipeline.test_constraints import (
    build_line,
    build_qualification,
    build_reminder,
    build_review,
    build_stage_transition,
    build_support_request,
)
from tests.relationships.test_constraints import (
    build_assessment,
    build_budget,
    build_budget_line,
    build_issue,
    build_plan,
)

ADMIN_APPS = ("ltc", "accounts", "relationships", "pipeline", "contracts")

_counter = iter(range(10**6))


def _unique_year() -> int:
    return 2000 + next(_counter)


BUILDERS = {
    "ltc.kpitarget": build_kpi_target,
    "ltc.funnelrollup": build_funnel_rollup,
    "ltc.webhooksubscription": build_webhook_subscription,
    "ltc.webhookevent": build_webhook_event,
    "ltc.webhookdelivery": build_webhook_delivery,
    "ltc.webhookdeliveryattempt": build_webhook_attempt,
    "ltc.apiclient": lambda: api_client_create(name="ERP", scopes=["customers:read"])[0],
    "ltc.idempotencyrecord": lambda: IdempotencyRecord.objects.create(
        principal="client:1",
        key=f"k-{next(_counter)}",
        request_hash="0" * 64,
        method="POST",
        path="/api/v1/x",
    ),
    "ltc.bulkupsertaudit": lambda: BulkUpsertAudit.objects.create(
        resource="customers", actor=UserFactory(), rows=3
    ),
    "accounts.orgunit": lambda: OrgUnitFactory(parent=OrgUnitFactory()),
    "accounts.user": UserFactory,
    "accounts.loginfailure": lambda: LoginFailure.objects.create(username="mallory", ip_address="127.0.0.9"),
    "relationships.customer": CustomerFactory,
    "relationships.customerevent": lambda: CustomerEvent.objects.create(
        customer=CustomerFactory(), happens_on=dt.date(2026, 12, 1), title="预算评审会"
    ),
    "relationships.customerbudget": build_budget,
    "relationships.customerbudgetline": build_budget_line,
    "relationships.customerteammember": CustomerTeamMemberFactory,
    "relationships.contact": ContactFactory,
    "relationships.relationshipassessment": build_assessment,
    "relationships.relationshipplan": build_plan,
    "relationships.relationshipactionitem": lambda: RelationshipActionItem.objects.create(
        plan=build_plan(), title="安排高层互访", owner=UserFactory(), due_on=dt.date(2026, 12, 15)
    ),
    "relationships.visit": VisitFactory,
    "relationships.customerissue": build_issue,
    "pipeline.product": ProductFactory,
    "pipeline.lead": LeadFactory,
    "pipeline.leadqualification": build_qualification,
    "pipeline.leadreview": build_review,
    "pipeline.leadreviewreminder": build_reminder,
    "pipeline.leadtransition": lambda: LeadTransition.objects.create(
        lead=LeadFactory(), from_status="NEW", to_status="VALIDATING", actor=UserFactory()
    ),
    "pipeline.opportunity": OpportunityFactory,
    "pipeline.opportunityteammember": OpportunityTeamMemberFactory,
    "pipeline.stagetransition": build_stage_transition,
    "pipeline.gatedecision": GateDecisionFactory,
    "pipeline.supportrequest": build_support_request,
    "pipeline.opportunityline": build_line,
    "contracts.contract": ContractFactory,
    "contracts.paymentmilestone": PaymentMilestoneFactory,
    "contracts.contractchange": build_change,
    "contracts.invoice": InvoiceFactory,
    "contracts.receipt": ReceiptFactory,
    "contracts.contractnumbersequence": lambda: build_sequence(year=_unique_year()),
}


def _invoice_of_a_milestone():
    milestone = PaymentMilestoneFactory()
    return InvoiceFactory(contract=milestone.contract, milestone=milestone)


# For the query-count test every nullable foreign key the changelist shows is filled, so a missing join shows.
RICH_BUILDERS = {
    **BUILDERS,
    "relationships.customer": lambda: CustomerFactory(owner=UserFactory()),
    "relationships.contact": lambda: ContactFactory(owner=UserFactory()),
    "pipeline.lead": lambda: LeadFactory(nurturer=UserFactory()),
    "contracts.invoice": _invoice_of_a_milestone,
    "contracts.receipt": lambda: ReceiptFactory(invoice=_invoice_of_a_milestone(), recorded_by=UserFactory()),
}


def admin_models() -> list[str]:
    labels = []
    for app_label in ADMIN_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            labels.append(model._meta.label_lower)
    return sorted(labels)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, job_role="ADMIN")


def _url(label: str, view: str, *args) -> str:
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


def test_every_model_is_registered_and_buildable():
    registered = {model._meta.label_lower for model in admin.site._registry}
    missing = [label for label in admin_models() if label not in registered]
    assert not missing, f"models without an admin: {missing}"
    assert set(admin_models()) <= set(BUILDERS), sorted(set(admin_models()) - set(BUILDERS))


def test_models_with_history_use_the_history_admin():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ADMIN_APPS and hasattr(model, "history"):
            assert isinstance(model_admin, SimpleHistoryAdmin), model


@pytest.mark.django_db
@pytest.mark.parametrize("label", admin_models())
def test_admin_pages_render(client, superuser, label):
    obj = BUILDERS[label]()
    client.force_login(superuser)
    assert client.get(_url(label, "changelist")).status_code == 200
    assert client.get(_url(label, "changelist"), {"q": "客户"}).status_code == 200
    assert client.get(_url(label, "change", obj.pk)).status_code == 200
    model_admin = admin.site._registry[type(obj)]
    request = type("R", (), {"user": superuser})()
    if model_admin.has_add_permission(request):
        assert client.get(_url(label, "add")).status_code == 200
    if isinstance(model_admin, SimpleHistoryAdmin):
        assert client.get(_url(label, "history", obj.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("label", admin_models())
def test_changelist_queries_do_not_grow_with_rows(client, superuser, django_assert_max_num_queries, label):
    client.force_login(superuser)
    RICH_BUILDERS[label]()
    url = _url(label, "changelist")
    client.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(url).status_code == 200
    for _ in range(5):
        RICH_BUILDERS[label]()
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 6


BIG_TABLES = {
    "relationships.customer",
    "relationships.contact",
    "relationships.visit",
    "accounts.user",
    "pipeline.lead",
    "pipeline.opportunity",
    "contracts.contract",
    "contracts.paymentmilestone",
    "contracts.invoice",
}


def _widgets_of(form_class) -> dict:
    widgets = {}
    for name, form_field in form_class.base_fields.items():
        widget = form_field.widget
        widgets[name] = getattr(widget, "widget", widget)  # unwrap RelatedFieldWidgetWrapper
    return widgets


@pytest.mark.django_db
def test_big_tables_never_render_a_select_of_every_row(rf, superuser):
    """Foreign keys to customers, users, leads, opportunities, contracts… use autocomplete or raw id widgets,
    on every admin form and inline."""
    request = rf.get("/admin/")
    request.user = superuser
    offenders = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ADMIN_APPS:
            continue
        forms = []
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            forms.append((model, model_admin.get_form(request), None))
        for inline in model_admin.get_inline_instances(request):
            forms.append((inline.model, inline.get_formset(request).form, model))
        for form_model, form_class, parent in forms:
            for name, widget in _widgets_of(form_class).items():
                try:
                    field = form_model._meta.get_field(name)
                except Exception:  # a form-only field such as the password pair
                    continue
                if not field.is_relation or field.related_model._meta.label_lower not in BIG_TABLES:
                    continue
                if field.related_model is parent:  # an inline's link to its parent is a hidden input
                    continue
                if not isinstance(widget, AutocompleteMixin | ForeignKeyRawIdWidget | ManyToManyRawIdWidget):
                    offenders.append(f"{form_model.__name__}.{name} ({type(widget).__name__})")
    assert not offenders, offenders


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(BIG_TABLES - {"accounts.user"}))
def test_big_changelists_never_scan_the_whole_table(client, superuser, label):
    """No date-hierarchy DISTINCT, no filter listing every distinct value, and the row count stops at a cap."""
    for _ in range(2):
        RICH_BUILDERS[label]()
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(label, "changelist")).status_code == 200
    table = apps.get_model(label)._meta.db_table
    on_table = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert not [sql for sql in on_table if "DISTINCT" in sql], on_table
    counts = [sql for sql in on_table if "COUNT(" in sql]
    assert counts and all("LIMIT" in sql for sql in counts), counts


@pytest.mark.django_db
def test_the_count_stops_at_the_cap(client, superuser, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(admin.site._registry[Customer], "list_per_page", 2)
    for _ in range(5):
        CustomerFactory()
    client.force_login(superuser)
    url = _url("relationships.customer", "changelist")
    first = client.get(url).context["cl"]
    assert first.result_count == 3
    assert first.paginator.num_pages == 2
    assert len(first.result_list) == 2
    assert len(client.get(url, {"p": 2}).context["cl"].result_list) == 1
