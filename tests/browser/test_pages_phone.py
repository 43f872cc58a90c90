"""Every page a rep opens on the road fits a 375-px phone: no sideways scrolling, whatever the content."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from pipeline.models import GateDecision, OpportunityLine
from tests.factories import (
    DEMO_PASSWORD,
    ContactFactory,
    CustomerFactory,
    CustomerTeamMemberFactory,
    GateDecisionFactory,
    LeadFactory,
    OpportunityFactory,
    OpportunityTeamMemberFactory,
    ProductFactory,
    UserFactory,
    VisitFactory,
    org_tree,
)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def world(transactional_db):
    tree = org_tree()
    dept = tree["dept1"]
    rep = UserFactory(username="zhao.lei", full_name="赵磊", org_unit=dept)
    manager = UserFactory(username="dept.mgr", org_unit=dept, job_role="MANAGER")
    sr = UserFactory(org_unit=dept, job_role="SOLUTION_EXPERT")
    fr = UserFactory(org_unit=dept, job_role="DELIVERY_EXPERT")
    long_name = "中国移动通信集团浙江有限公司杭州分公司政企客户事业部（数据中心与云网融合项目群）"
    customer = CustomerFactory(name=long_name, account_dept=dept, owner=rep, summary="省内最大运营商。" * 20)
    for user, role in ((rep, "AR"), (sr, "SR"), (fr, "FR")):
        CustomerTeamMemberFactory(customer=customer, user=user, role=role)
    for i, role in enumerate(("DECIDER", "INFLUENCER", "USER", "GATEKEEPER")):
        ContactFactory(
            customer=customer,
            owner=rep,
            decision_role=role,
            stance=["SUPPORT", "OPPOSE"][i % 2],
            is_coach=i == 1,
            private_notes="周末喜欢徒步，孩子在杭州读高中。" * 3,
        )
    VisitFactory(
        customer=customer,
        rep=rep,
        outcome="很长的拜访记录" * 30,
        next_step="准备技术交流材料" * 5,
        next_step_on=None,
    )
    lead = LeadFactory(customer=customer, owner=rep, title="云网融合二期扩容项目（含数据中心改造）")
    opp = OpportunityFactory(
        customer=customer,
        owner=rep,
        name="杭州数据中心云网融合二期项目",
        stage="BID",
        competitors="竞争对手甲、竞争对手乙、竞争对手丙",
    )
    for user, role in ((rep, "AR"), (sr, "SR"), (fr, "FR")):
        OpportunityTeamMemberFactory(opportunity=opp, user=user, role=role)
    GateDecisionFactory(
        opportunity=opp, decider=manager, gate=GateDecision.Gate.ATI, conditions="控制毛利率不低于25%"
    )
    for i in range(3):
        OpportunityLine.objects.create(
            opportunity=opp,
            product=ProductFactory(name=f"超长产品名称型号{i}" * 3),
            quantity=12,
            unit_price=123456789,
            discount_pct=15,
            line_amount=1259259247.80,
        )
    return {"rep": rep, "manager": manager, "customer": customer, "lead": lead, "opp": opp}


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_every_page_fits_a_phone(page: Page, live_server, screenshot_dir, world, who):
    user = world[who]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("用户名")).fill(user.username)
    page.get_by_label(re.compile("密码")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("登录")).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的一周")
    paths = {
        "week": "/week/",
        "visit": "/visits/new/",
        "customers": "/customers/",
        "customer": f"/customers/{world['customer'].pk}/",
        "leads": "/leads/",
        "lead-new": "/leads/new/",
        "lead": f"/leads/{world['lead'].pk}/",
        "opportunities": "/opportunities/",
        "opportunity": f"/opportunities/{world['opp'].pk}/",
        "contracts": "/contracts/",
    }
    for name, path in paths.items():
        page.goto(f"{live_server.url}{path}")
        page.screenshot(path=str(screenshot_dir / f"phone-{who}-{name}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert no_horizontal_scroll(page), f"{path} is {width}px wide"
