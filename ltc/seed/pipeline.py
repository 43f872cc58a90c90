"""Products, leads (qualifications, weekly reviews) and opportunities (team, stages, gates, BOQ, support)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from ltc.seed import vocab
from ltc.seed.base import Clock, Loader, Rand, Weighted, monday, money
from ltc.seed.customers import Customers
from ltc.seed.org import Org
from pipeline.models import (
    GateDecision,
    Lead,
    LeadQualification,
    LeadReview,
    Opportunity,
    OpportunityLine,
    OpportunityTeamMember,
    Product,
    StageTransition,
    SupportRequest,
)

DAY = Clock.DAY
HISTORY_DAYS = 540  # about 18 months of pipeline
FORWARD = ("VALIDATE", "GUIDE", "BID", "NEGOTIATE", "WON")
GATE_INTO = {"GUIDE": "ATI", "NEGOTIATE": "ATB", "WON": "ATC"}
DWELL_DAYS = {"VALIDATE": (7, 40), "GUIDE": (14, 75), "BID": (10, 50), "NEGOTIATE": (7, 40)}
# Opportunity amounts (CNY) by customer tier, drawn log-uniformly.
TIER_DEAL = {
    "S": (3_000_000, 60_000_000),
    "A": (800_000, 12_000_000),
    "B": (200_000, 3_000_000),
    "C": (50_000, 900_000),
}


@dataclass
class Products:
    ids: list[int]
    prices: list[int]  # cents


@dataclass
class ConvertedLead:
    lead_id: int
    customer: int
    owner: int
    converted_ago: int
    estimate: int  # cents


@dataclass
class WonDeal:
    opportunity_id: int
    customer_id: int
    owner: int
    dept: int
    amount: int  # cents
    margin: float
    won_ago: int
    name: str


def build_products(*, loader: Loader, rand: Rand, clock: Clock) -> Products:
    table = loader.table(
        Product,
        (
            "id",
            "external_id",
            "code",
            "name",
            "product_line",
            "series",
            "list_price",
            "currency",
            "is_active",
            "created_at",
            "updated_at",
        ),
    )
    count = sum(len(items) for _, _, items in vocab.PRODUCT_LINES)
    next_id = loader.first_id(Product, count)
    stamp = clock.at(900 * DAY)
    products = Products(ids=[], prices=[])
    for line, prefix, items in vocab.PRODUCT_LINES:
        for k, (series, name, price) in enumerate(items, start=1):
            table.add(
                (
                    next_id,
                    f"PROD-{prefix}-{k:03d}",
                    f"{prefix}-{k:03d}",
                    name,
                    line,
                    series,
                    money(price * 100),
                    "CNY",
                    True,
                    stamp,
                    stamp,
                )
            )
            products.ids.append(next_id)
            products.prices.append(price * 100)
            next_id += 1
    return products


def _grade(total: int) -> str:
    return "A" if total >= 24 else "B" if total >= 18 else "C" if total >= 12 else "D"


def _deal_amount(rand: Rand, tier: str) -> int:
    low, high = TIER_DEAL[tier]
    return int(rand.log_uniform(low, high) / 1000) * 1000 * 100


def build_leads(
    *, loader: Loader, rand: Rand, clock: Clock, org: Org, cust: Customers, count: int, convert_share: float
) -> list[ConvertedLead]:
    leads = loader.table(
        Lead,
        (
            "id",
            "external_id",
            "title",
            "customer_id",
            "prospect_name",
            "source",
            "source_visit_id",
            "need",
            "budget_known",
            "maturity",
            "estimated_amount",
            "currency",
            "owner_id",
            "nurturer_id",
            "org_unit_id",
            "status",
            "grade",
            "qualification_score",
            "next_review_on",
            "close_reason",
            "converted_at",
            "closed_at",
            "created_at",
            "updated_at",
        ),
    )
    quals = loader.table(
        LeadQualification,
        (
            "id",
            "lead_id",
            "is_lead_answer",
            "is_lead_score",
            "how_far_answer",
            "how_far_score",
            "can_win_answer",
            "can_win_score",
            "total_score",
            "grade",
            "qualified_by_id",
            "created_at",
            "updated_at",
        ),
    )
    reviews = loader.table(
        LeadReview,
        (
            "id",
            "lead_id",
            "week",
            "decision",
            "reason",
            "decided_by_id",
            "reassigned_to_id",
            "created_at",
            "updated_at",
        ),
    )
    first = loader.first_id(Lead, count)
    next_qual = loader.first_id(LeadQualification, count)
    next_review = loader.first_id(LeadReview, count * 3)
    open_status = Weighted(rand, (("NEW", 15), ("VALIDATING", 18), ("NURTURING", 27), ("CLOSED", 40)))
    source_draw = Weighted(
        rand,
        (
            ("VISIT", 30),
            ("MARKET_INSIGHT", 20),
            ("INSTALLED_BASE", 20),
            ("MARKETING", 12),
            ("PARTNER", 10),
            ("INBOUND", 8),
        ),
    )
    next_review_on = monday(clock.today) + dt.timedelta(days=7)
    converted: list[ConvertedLead] = []
    prospect_names = None
    for k in range(count):
        lead_id = first + k
        status = "CONVERTED" if rand.chance(convert_share) else open_status()
        prospect = status != "CONVERTED" and rand.chance(0.08)
        if prospect:
            if prospect_names is None:
                from ltc.seed.customers import CustomerNames

                prospect_names = CustomerNames(rand)
            c = None
            dept = rand.pick(org.depts)
            name = prospect_names(cust.count + k)[0]
            owner = rand.pick(dept.reps)
            tier = "C"
            industry = "OTHER"
        else:
            c = cust.pick()
            dept = org.depts[cust.dept[c]]
            name = cust.name[c]
            owner = cust.ar[c] if rand.chance(0.7) else rand.pick(dept.reps)
            tier = cust.tier[c]
            industry = cust.industry[c]
        topic = rand.pick(vocab.NEED_TOPICS[industry])
        if status == "NEW":
            created_days = rand.between(1, 30)
        elif status == "VALIDATING":
            created_days = rand.between(3, 90)
        elif status == "NURTURING":
            created_days = rand.between(10, 240)
        else:
            created_days = rand.between(12, HISTORY_DAYS)
        created_ago = created_days * DAY - rand.between(9, 18) * 3600
        estimate = _deal_amount(rand, tier)
        budget_known = rand.chance(0.5)
        source = source_draw()
        source_visit = None
        if source == "VISIT" and c is not None:
            before = [vid for vid, ago in cust.visits[c] if ago > created_ago]
            source_visit = before[0] if before else None
        nurturer = None
        if status in ("VALIDATING", "NURTURING", "CONVERTED"):
            nurturer = owner if rand.chance(0.7) else rand.pick(dept.srs)
        graded = (
            status in ("NURTURING", "CONVERTED")
            or (status == "VALIDATING" and rand.chance(0.5))
            or (status == "CLOSED" and rand.chance(0.3))
        )
        grade, score = "", None
        converted_at = closed_at = None
        close_reason = ""
        last_ago = created_ago
        if graded:
            boost = 3 if status == "CONVERTED" else (-3 if status == "CLOSED" else 0)
            scores = [min(10, max(0, rand.between(3, 9) + boost)) for _ in range(3)]
            score = sum(scores)
            grade = _grade(score)
            band = 0 if grade == "A" else 1 if grade == "B" else 2
            answers = vocab.QUALIFY_ANSWERS[band]
            qual_ago = max(3600, created_ago - rand.between(1, 5) * DAY)
            stamp = clock.at(qual_ago)
            quals.add(
                (
                    next_qual,
                    lead_id,
                    answers[0],
                    scores[0],
                    answers[1],
                    scores[1],
                    answers[2],
                    scores[2],
                    score,
                    grade,
                    owner,
                    stamp,
                    stamp,
                )
            )
            next_qual += 1
            last_ago = qual_ago
        manager = dept.manager_id
        if status == "CONVERTED":
            lag = rand.between(5, 60) * DAY
            converted_ago = max(3600, created_ago - lag)
            converted_at = clock.at(converted_ago)
            last_ago = converted_ago
            converted.append(ConvertedLead(lead_id, c, nurturer or owner, converted_ago, estimate))
            week = monday(clock.date(converted_ago))
            _review(reviews, next_review, lead_id, week, "CONVERT", manager, None, clock, converted_ago)
            next_review += 1
            earlier = week - dt.timedelta(days=7)
            if rand.chance(0.5) and clock.ago_of_date(earlier) < created_ago:
                _review(
                    reviews,
                    next_review,
                    lead_id,
                    earlier,
                    "NURTURE",
                    manager,
                    None,
                    clock,
                    converted_ago + 7 * DAY,
                )
                next_review += 1
        elif status == "CLOSED":
            closed_ago = max(3600, created_ago - rand.between(5, 60) * DAY)
            closed_at = clock.at(closed_ago)
            close_reason = rand.pick(vocab.LEAD_CLOSE_REASONS)
            last_ago = closed_ago
            _review(
                reviews,
                next_review,
                lead_id,
                monday(clock.date(closed_ago)),
                "CLOSE",
                manager,
                None,
                clock,
                closed_ago,
            )
            next_review += 1
        elif status == "NURTURING":
            week = monday(clock.today) - dt.timedelta(days=7)
            if rand.chance(0.12) and len(dept.reps) > 1:
                other = (
                    dept.reps[(dept.reps.index(owner) + 1) % len(dept.reps)]
                    if owner in dept.reps
                    else (dept.reps[0])
                )
                nurturer = other
                _review(reviews, next_review, lead_id, week, "REASSIGN", manager, other, clock, 5 * DAY)
            else:
                _review(reviews, next_review, lead_id, week, "NURTURE", manager, None, clock, 5 * DAY)
            next_review += 1
            last_ago = min(last_ago, 5 * DAY)
        leads.add(
            (
                lead_id,
                None,
                f"{name} {topic}",
                None if c is None else cust.id(c),
                name if prospect else "",
                source,
                source_visit,
                vocab.NEED_TEXT.format(topic=topic, quarter="下季度"),
                budget_known,
                "MATURE" if budget_known else "EARLY",
                money(estimate),
                "CNY",
                owner,
                nurturer,
                dept.unit_id,
                status,
                grade,
                score,
                next_review_on if status in Lead.OPEN_STATUSES else None,
                close_reason,
                converted_at,
                closed_at,
                clock.at(created_ago),
                clock.at(last_ago),
            )
        )
        if k % 5000 == 4999:
            loader.flush_full()
    return converted


def _review(table, review_id, lead_id, week, decision, decided_by, reassigned_to, clock: Clock, ago) -> None:
    stamp = clock.at(ago)
    table.add(
        (
            review_id,
            lead_id,
            week,
            decision,
            vocab.REVIEW_REASONS[decision],
            decided_by,
            reassigned_to,
            stamp,
            stamp,
        )
    )


def build_opportunities(
    *,
    loader: Loader,
    rand: Rand,
    clock: Clock,
    org: Org,
    cust: Customers,
    count: int,
    converted: list[ConvertedLead],
    products: Products,
) -> list[WonDeal]:
    opps = loader.table(
        Opportunity,
        (
            "id",
            "external_id",
            "name",
            "customer_id",
            "lead_id",
            "amount",
            "currency",
            "margin_pct",
            "expected_sign_on",
            "stage",
            "probability",
            "probability_overridden",
            "competitors",
            "owner_id",
            "org_unit_id",
            "stage_changed_at",
            "close_reason",
            "closed_at",
            "created_at",
            "updated_at",
        ),
    )
    team = loader.table(
        OpportunityTeamMember,
        ("id", "opportunity_id", "user_id", "role", "credit_share", "created_at", "updated_at"),
    )
    moves = loader.table(
        StageTransition,
        ("id", "opportunity_id", "from_stage", "to_stage", "actor_id", "reason", "created_at"),
    )
    gates = loader.table(
        GateDecision,
        (
            "id",
            "opportunity_id",
            "gate",
            "outcome",
            "decider_id",
            "decided_on",
            "conditions",
            "amount_at_decision",
            "margin_at_decision",
            "escalated_to_id",
            "created_at",
            "updated_at",
        ),
    )
    lines = loader.table(
        OpportunityLine,
        ("id", "opportunity_id", "product_id", "quantity", "unit_price", "discount_pct", "line_amount"),
    )
    linked = loader.table(Opportunity.visits.through, ("id", "opportunity_id", "visit_id"))
    support = loader.table(
        SupportRequest,
        (
            "id",
            "opportunity_id",
            "requested_by_id",
            "expertise",
            "need",
            "needed_by",
            "status",
            "expert_id",
            "assigned_at",
            "created_at",
            "updated_at",
        ),
    )
    first = loader.first_id(Opportunity, count)
    ids = {
        m: loader.first_id(m, count * per)
        for m, per in (
            (OpportunityTeamMember, 5),
            (StageTransition, 6),
            (GateDecision, 5),
            (OpportunityLine, 5),
            (Opportunity.visits.through, 3),
            (SupportRequest, 2),
        )
    }
    probability = settings.LTC["STAGE_PROBABILITY"]
    authority = settings.LTC["GATE_AUTHORITY"]
    dept_limit = (authority.get("ACCOUNT_DEPT") or 10**15) * 100
    office_limit = (authority.get("REP_OFFICE") or 10**15) * 100
    outcome_draw = Weighted(
        rand,
        (
            ("VALIDATE", 14),
            ("GUIDE", 11),
            ("BID", 9),
            ("NEGOTIATE", 7),
            ("WON", 25),
            ("LOST", 20),
            ("ABANDONED", 14),
        ),
    )
    lost_at = Weighted(rand, (("GUIDE", 3), ("BID", 5), ("NEGOTIATE", 2)))
    abandoned_at = Weighted(rand, (("VALIDATE", 5), ("GUIDE", 3), ("BID", 1)))
    won: list[WonDeal] = []
    for j in range(count):
        oid = first + j
        lead = converted[j] if j < len(converted) else None
        if lead is not None:
            c, owner, created_ago = lead.customer, lead.owner, lead.converted_ago
            amount = max(100_000, int(lead.estimate * (0.7 + 0.7 * rand.random()) / 100_000) * 100_000)
        else:
            c = cust.pick()
            owner = cust.ar[c]
            created_ago = rand.between(1, HISTORY_DAYS) * DAY - rand.between(9, 18) * 3600
            amount = _deal_amount(rand, cust.tier[c])
        dept = org.depts[cust.dept[c]]
        if owner not in dept.reps:  # a lead nurtured by an SR: the AR seat stays with a rep
            owner = cust.ar[c]
        outcome = outcome_draw()
        if outcome in ("VALIDATE", "GUIDE", "BID", "NEGOTIATE", "WON"):
            path = list(FORWARD[: FORWARD.index(outcome) + 1])
        else:
            stop = (lost_at if outcome == "LOST" else abandoned_at)()
            path = [*FORWARD[: FORWARD.index(stop) + 1], outcome]
        dwell = [rand.between(*DWELL_DAYS[stage]) * DAY + rand.between(0, 8) * 3600 for stage in path[:-1]]
        # The open stage has lasted a while too; everything must fit between creation and now.
        tail = rand.between(2, 30) * DAY if outcome in DWELL_DAYS else 0
        room = created_ago - 3600
        # A young opportunity has not got that far yet: cut the path back until it fits before today.
        while len(path) > 1 and sum(dwell) + tail > room:
            path, dwell = path[:-1], dwell[:-1]
            tail = rand.between(1, 20) * DAY
        stage = path[-1]
        # BOQ for about a third: the amount is then the lines' total.
        boq: list[tuple] = []
        if rand.chance(0.3):
            picks = rand.sample(range(len(products.ids)), rand.between(1, 4))
            total = 0
            for p in picks:
                price = products.prices[p]
                discount = rand.between(0, 35)
                share = amount // len(picks)
                qty = max(1, round(share / max(1, price * (100 - discount) // 100)))
                line_amount = qty * price * (100 - discount) // 100
                boq.append((products.ids[p], qty, price, discount, line_amount))
                total += line_amount
            amount = total
        margin = round(12 + 30 * rand.random(), 2)
        # Decider by the amount's authority: dept, office (escalated) or region (escalated).
        if amount <= dept_limit:
            decider, escalated = dept.manager_id, None
        elif amount <= office_limit:
            decider, escalated = dept.office.manager_id, dept.office.unit_id
        else:
            decider, escalated = dept.office.region.manager_id, dept.office.region.unit_id
        sr = cust.sr[c] if rand.chance(0.7) else rand.pick(dept.srs)
        fr = cust.fr[c] if rand.chance(0.7) else rand.pick(dept.frs)
        close_reason = ""
        if stage == "LOST":
            close_reason = rand.pick(vocab.OPP_LOST_REASONS)
        elif stage == "ABANDONED":
            close_reason = rand.pick(vocab.OPP_ABANDONED_REASONS)
        created = clock.at(created_ago)
        ago = created_ago
        stage_ago = created_ago
        reached = {"VALIDATE"}
        for k, stage_to in enumerate(path[1:]):
            ago -= dwell[k]
            stage_from = path[k]
            when = clock.at(ago)
            gate = GATE_INTO.get(stage_to)
            if gate:
                if rand.chance(0.15):  # a HOLD first, then the GO a little later
                    hold_ago = ago + min(dwell[k] // 2, 7 * DAY)
                    _gate(
                        gates,
                        ids,
                        oid,
                        gate,
                        "HOLD",
                        decider,
                        clock,
                        hold_ago,
                        amount,
                        margin,
                        escalated,
                        rand.pick(vocab.GATE_CONDITIONS[3:]),
                    )
                _gate(
                    gates,
                    ids,
                    oid,
                    gate,
                    "GO",
                    decider,
                    clock,
                    ago,
                    amount,
                    margin,
                    escalated,
                    rand.pick(vocab.GATE_CONDITIONS),
                )
            elif stage_to == "ABANDONED" and stage_from == "VALIDATE" and rand.chance(0.6):
                _gate(
                    gates,
                    ids,
                    oid,
                    "ATI",
                    "NO_GO",
                    decider,
                    clock,
                    ago,
                    amount,
                    margin,
                    escalated,
                    "投入产出不匹配",
                )
            reason = (
                close_reason if stage_to in ("LOST", "ABANDONED") else f"{gate or '阶段评审'} 通过 passed"
            )
            moves.add((ids[StageTransition], oid, stage_from, stage_to, owner, reason, when))
            ids[StageTransition] += 1
            stage_ago = ago
            reached.add(stage_to)
        if stage in ("BID", "NEGOTIATE") and rand.chance(0.1):  # a decision pending at the next gate
            _gate(
                gates,
                ids,
                oid,
                "ATB" if stage == "BID" else "ATC",
                "HOLD",
                decider,
                clock,
                max(3600, stage_ago - DAY),
                amount,
                margin,
                escalated,
                rand.pick(vocab.GATE_CONDITIONS[3:]),
            )
        closed = stage in ("WON", "LOST", "ABANDONED")
        # The iron triangle: AR from the start, SR from GUIDE, FR by BID (complete before ATB).
        members = [(owner, "AR", created_ago)]
        if "GUIDE" in reached or rand.chance(0.5):
            members.append((sr, "SR", created_ago if "GUIDE" not in reached else created_ago - dwell[0] // 2))
        if "BID" in reached or ("GUIDE" in reached and rand.chance(0.5)):
            members.append((fr, "FR", created_ago - sum(dwell[:2]) // 2))
        shares = {1: ("100",), 2: ("60", "40"), 3: ("50", "30", "20")}[len(members)]
        seen = set()
        for (user_id, role, join_ago), share in zip(members, shares, strict=True):
            if user_id in seen:
                continue
            seen.add(user_id)
            stamp = clock.at(max(3600, join_ago))
            team.add((ids[OpportunityTeamMember], oid, user_id, role, share, stamp, stamp))
            ids[OpportunityTeamMember] += 1
        if "GUIDE" in reached and rand.chance(0.08):  # 呼唤炮火: an expert from a sibling department
            sibling = dept.office.depts[(dept.kind_index + 1) % len(dept.office.depts)]
            expert = rand.pick(sibling.srs)
            asked_ago = created_ago - dwell[0]
            status = (
                rand.pick(("OPEN", "ASSIGNED", "DONE", "DONE", "CANCELLED"))
                if not closed
                else rand.pick(("DONE", "CANCELLED"))
            )
            assigned = status in ("ASSIGNED", "DONE") and expert not in seen
            if status in ("ASSIGNED", "DONE") and not assigned:
                status = "CANCELLED"
            assigned_ago = max(3600, asked_ago - rand.between(1, 3) * DAY)
            stamp = clock.at(asked_ago)
            support.add(
                (
                    ids[SupportRequest],
                    oid,
                    owner,
                    rand.pick(("PRODUCT", "SOLUTION", "DELIVERY", "RND")),
                    "需要专家支持方案澄清与客户技术交流。",
                    clock.date(asked_ago - 10 * DAY),
                    status,
                    expert if assigned else None,
                    clock.at(assigned_ago) if assigned else None,
                    stamp,
                    stamp,
                )
            )
            ids[SupportRequest] += 1
            if assigned:
                team.add(
                    (
                        ids[OpportunityTeamMember],
                        oid,
                        expert,
                        "SUPPORT",
                        "0",
                        clock.at(assigned_ago),
                        clock.at(assigned_ago),
                    )
                )
                ids[OpportunityTeamMember] += 1
        for product_id, qty, price, discount, line_amount in boq:
            lines.add(
                (ids[OpportunityLine], oid, product_id, qty, money(price), discount, money(line_amount))
            )
            ids[OpportunityLine] += 1
        samples = cust.visits[c]
        if samples and rand.chance(0.3):
            for vid, _ago in samples[: rand.between(1, 2)]:
                linked.add((ids[Opportunity.visits.through], oid, vid))
                ids[Opportunity.visits.through] += 1
        expected = clock.date(stage_ago) if closed else clock.days_ago(-rand.between(15, 180))
        topic = rand.pick(vocab.NEED_TOPICS[cust.industry[c]])
        name = f"{cust.name[c]} {topic}项目"
        opps.add(
            (
                oid,
                f"CRM-OPP-{oid:08d}",
                name,
                cust.id(c),
                lead.lead_id if lead else None,
                money(amount),
                "CNY",
                f"{margin:.2f}",
                expected,
                stage,
                probability[stage],
                False,
                "、".join(rand.sample(vocab.COMPETITORS, rand.between(1, 3))),
                owner,
                dept.unit_id,
                clock.at(stage_ago),
                close_reason,
                clock.at(stage_ago) if closed else None,
                created,
                clock.at(stage_ago),
            )
        )
        if stage == "WON":
            won.append(WonDeal(oid, cust.id(c), owner, dept.index, amount, margin, stage_ago, name))
        if j % 2000 == 1999:
            loader.flush_full()
    return won


def _gate(
    table, ids, opp_id, gate, outcome, decider, clock: Clock, ago, amount, margin, escalated, conditions
):
    stamp = clock.at(ago)
    table.add(
        (
            ids[GateDecision],
            opp_id,
            gate,
            outcome,
            decider,
            clock.date(ago),
            conditions,
            money(amount),
            f"{margin:.2f}",
            escalated,
            stamp,
            stamp,
        )
    )
    ids[GateDecision] += 1
