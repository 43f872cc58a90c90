"""The customer page's power map shows a contact's private card to the contact's owner and those above the
owner, never to a team member who sees the customer and the contact."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "reads"), [("rep", True), ("dept_mgr", True), ("fr", False)])
def test_the_private_card_on_the_customer_page(cast, who, reads):
    response = login(getattr(cast, who)).get(reverse("customer-detail", args=[cast.customer.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert cast.contact.name in content  # the contact itself is on the page for all three
    assert ("喜欢打羽毛球" in content) is reads
