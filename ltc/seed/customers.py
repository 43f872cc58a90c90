"""Customers with their archive, teams, contacts, budgets, events, relationship work, issues and visits."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ltc.seed import vocab
from ltc.seed.base import Clock, Loader, Rand, Weighted, monday, money
from ltc.seed.org import Org, person_name
from relationships.models import (
    Contact,
    Customer,
    CustomerBudget,
    CustomerBudgetLine,
    CustomerEvent,
    CustomerIssue,
    CustomerTeamMember,
    RelationshipActionItem,
    RelationshipAssessment,
    RelationshipPlan,
    Visit,
)

DAY = Clock.DAY
TIER_WEIGHTS = (("S", 5), ("A", 15), ("B", 35), ("C", 45))
# Annual purchase ranges (CNY) consistent with settings.LTC["TIER_THRESHOLDS"].
TIER_PURCHASE = {
    "S": (10_000_000, 200_000_000),
    "A": (5_000_000, 9_990_000),
    "B": (1_000_000, 4_990_000),
    "C": (0, 990_000),
}
CONTACTS_PER_TIER = {"S": 8, "A": 6, "B": 4, "C": 3}
ARCHIVE_FILLED = {"S": (8, 9), "A": (5, 9), "B": (2, 6), "C": (0, 3)}
# How often a customer of each tier is picked for a lead or an opportunity.
TIER_DEAL_WEIGHT = {"S": 8.0, "A": 4.0, "B": 2.0, "C": 1.0}


@dataclass
class Customers:
    first_id: int
    count: int
    dept: list[int] = field(default_factory=list)  # dept index
    tier: list[str] = field(default_factory=list)
    industry: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    ar: list[int] = field(default_factory=list)
    sr: list[int] = field(default_factory=list)
    fr: list[int] = field(default_factory=list)
    contact_first: list[int] = field(default_factory=list)
    contact_count: list[int] = field(default_factory=list)
    # A few visits per customer (id, seconds ago) that leads and opportunities can point at.
    visits: list[list[tuple[int, int]]] = field(default_factory=list)
    pick: Weighted | None = None

    def id(self, index: int) -> int:
        return self.first_id + index


class CustomerNames:
    """Unique (Chinese, English, industry) names: a bijection over brand × place × suffix × sub-unit."""

    def __init__(self, rand: Rand):
        self.brands, self.places, self.subs = vocab.CUSTOMER_BRANDS, vocab.PLACES, vocab.SUB_UNITS
        self.block = len(self.brands) * len(self.places) * 3
        step = rand.between(self.block // 3, self.block - 1)
        while math.gcd(step, self.block) != 1:
            step += 1
        self.step, self.offset = step, rand.between(0, self.block - 1)

    def __call__(self, index: int) -> tuple[str, str, str]:
        block, within = divmod(index, self.block)
        k = (within * self.step + self.offset) % self.block
        k, b = divmod(k, len(self.brands))
        s, p = divmod(k, len(self.places))
        brand, brand_en, industry, suffixes = self.brands[b]
        place, place_en = self.places[p]
        suffix, suffix_en = suffixes[s]
        if industry in vocab.PLACE_FIRST_INDUSTRIES:
            zh, en = f"{place}{brand}{suffix}", f"{place_en} {brand_en} {suffix_en}".strip()
        else:
            zh, en = f"{brand}{place}{suffix}", f"{brand_en} {place_en} {suffix_en}".strip()
        sub, sub_en = self.subs[block % len(self.subs)]
        zh, en = zh + sub, en + sub_en
        if block >= len(self.subs):  # past ~200k names: number the rest
            zh, en = f"{zh}（{block // len(self.subs) + 1}）", f"{en} ({block // len(self.subs) + 1})"
        return zh, en, industry


def build_customers(*, loader: Loader, rand: Rand, clock: Clock, org: Org, count: int, say) -> Customers:
    cust = Customers(first_id=loader.first_id(Customer, count), count=count)
    names = CustomerNames(rand)
    kind_of_industry = {ind: k for k, d in enumerate(vocab.ACCOUNT_DEPTS) for ind in d[4]}
    round_robin = [0] * len(vocab.ACCOUNT_DEPTS)
    next_owner = [0] * len(org.depts)
    tier_draw = Weighted(rand, TIER_WEIGHTS)
    customers = loader.table(
        Customer,
        (
            "id",
            "external_id",
            "name",
            "name_en",
            "tax_id",
            "industry",
            "account_dept_id",
            "owner_id",
            "annual_purchase",
            "currency",
            "repeat_purchase",
            "named_top_account",
            "tier",
            "market_type",
            "status",
            *Customer.ARCHIVE_FIELDS,
            "archive_completeness",
            "created_at",
            "updated_at",
        ),
    )
    team = loader.table(
        CustomerTeamMember, ("id", "customer_id", "user_id", "role", "created_at", "updated_at")
    )
    contacts = loader.table(
        Contact,
        (
            "id",
            "external_id",
            "customer_id",
            "name",
            "title",
            "department",
            "phone",
            "email",
            "level",
            "decision_role",
            "stance",
            "intimacy",
            "support_level",
            "is_coach",
            "reports_to_id",
            "owner_id",
            "private_notes",
            "created_at",
            "updated_at",
        ),
    )
    tiers = [tier_draw() for _ in range(count)]
    n_contacts = sum(CONTACTS_PER_TIER[t] for t in tiers)
    next_contact = loader.first_id(Contact, n_contacts)
    next_team = loader.first_id(CustomerTeamMember, count * 3 + count // 10 + 1)
    offices_by_kind = [[o.depts[k] for o in org.offices] for k in range(len(vocab.ACCOUNT_DEPTS))]
    archive_fields = Customer.ARCHIVE_FIELDS
    for i in range(count):
        cid = cust.first_id + i
        zh, en, industry = names(i)
        kind = kind_of_industry.get(industry, 1)  # other industries go to 政企
        candidates = offices_by_kind[kind]
        dept = candidates[round_robin[kind] % len(candidates)]
        round_robin[kind] += 1
        dept.customers.append(i)
        tier = tiers[i]
        ar = dept.reps[next_owner[dept.index] % len(dept.reps)]
        next_owner[dept.index] += 1
        sr, fr = rand.pick(dept.srs), rand.pick(dept.frs)
        low, high = TIER_PURCHASE[tier]
        purchase = rand.between(low // 10_000, high // 10_000) * 10_000
        status = "ACTIVE"
        market = dept.market_type
        if purchase == 0:
            status, market = "PROSPECT", "BREAKTHROUGH"
        elif tier == "C" and rand.chance(0.12):
            status = rand.pick(("DORMANT", "DORMANT", "LOST"))
        low_f, high_f = ARCHIVE_FILLED[tier]
        filled = rand.between(low_f, high_f)
        start = rand.between(0, len(archive_fields) - 1)
        chosen = {archive_fields[(start + k) % len(archive_fields)] for k in range(filled)}
        archive = [vocab.ARCHIVE_TEXTS[f] if f in chosen else "" for f in archive_fields]
        created_ago = rand.between(560, 900) * DAY - rand.between(8, 18) * 3600
        created = clock.at(created_ago)
        updated = clock.at(rand.between(1, 60) * DAY - 10 * 3600)
        customers.add(
            (
                cid,
                f"ERP-CUST-{cid:08d}",
                zh,
                en,
                f"91{310000 + cid % 690000:06d}{cid:010d}",
                industry,
                dept.unit_id,
                ar,
                money(purchase * 100),
                "CNY",
                tier in "SAB",
                tier == "S" and rand.chance(0.5),
                tier,
                market,
                status,
                *archive,
                (100 * filled + len(archive_fields) // 2) // len(archive_fields),
                created,
                updated,
            )
        )
        for user_id, role in ((ar, "AR"), (sr, "SR"), (fr, "FR")):
            team.add((next_team, cid, user_id, role, created, created))
            next_team += 1
        if tier == "S":
            team.add((next_team, cid, dept.office.manager_id, "SPONSOR", created, created))
            next_team += 1
        # Contacts: the first is the top decider, the rest report to them.
        n = CONTACTS_PER_TIER[tier]
        cust.contact_first.append(next_contact)
        cust.contact_count.append(n)
        top_id = next_contact
        for k in range(n):
            level = "TOP" if k < max(1, n // 4) else ("MIDDLE" if k < n // 2 + 1 else "BASE")
            title, role = rand.pick(vocab.CONTACT_TITLES[level])
            stance = rand.pick(("SUPPORT", "SUPPORT", "NEUTRAL", "NEUTRAL", "OPPOSE"))
            coach = k > 0 and rand.chance(0.12)
            intimacy = rand.between(3, 5) if coach else rand.between(1, 5)
            contacts.add(
                (
                    next_contact,
                    f"CRM-CON-{next_contact:08d}",
                    cid,
                    person_name(rand),
                    title,
                    "公司领导" if level == "TOP" else rand.pick(vocab.CONTACT_DEPARTMENTS),
                    f"138{next_contact:08d}",
                    f"contact{next_contact}@customer.example",
                    level,
                    role,
                    "SUPPORT" if coach else stance,
                    intimacy,
                    rand.between(1, 5),
                    coach,
                    None if k == 0 else top_id,
                    ar if k % 3 else sr,
                    "教练，可提供内部采购信息。" if coach else "",
                    created,
                    updated,
                )
            )
            next_contact += 1
        cust.dept.append(dept.index)
        cust.tier.append(tier)
        cust.industry.append(industry)
        cust.name.append(zh)
        cust.ar.append(ar)
        cust.sr.append(sr)
        cust.fr.append(fr)
        cust.visits.append([])
        if i % 2000 == 1999:
            loader.flush_full()
    cust.pick = Weighted(rand, [(i, TIER_DEAL_WEIGHT[t]) for i, t in enumerate(tiers)])
    say(f"  customers: {count}, contacts: {n_contacts}")
    return cust


def build_relationship_work(*, loader: Loader, rand: Rand, clock: Clock, org: Org, cust: Customers) -> None:
    """Budgets, key events, assessments, plans with actions, and customer issues."""
    budgets = loader.table(
        CustomerBudget,
        (
            "id",
            "customer_id",
            "year",
            "total_amount",
            "currency",
            "obtained_on",
            "obtained_by_id",
            "created_at",
            "updated_at",
        ),
    )
    lines = loader.table(CustomerBudgetLine, ("id", "budget_id", "area", "amount"))
    events = loader.table(
        CustomerEvent, ("id", "customer_id", "happens_on", "title", "notes", "created_at", "updated_at")
    )
    assessments = loader.table(
        RelationshipAssessment,
        (
            "id",
            "contact_id",
            "period",
            "assessor_id",
            "layer",
            "acceptance",
            "participation",
            "information_sharing",
            "guidance",
            "project_support",
            "competitor_attitude",
            "notes",
            "created_at",
            "updated_at",
        ),
    )
    plans = loader.table(
        RelationshipPlan,
        (
            "id",
            "customer_id",
            "layer",
            "period_start",
            "period_end",
            "objective",
            "owner_id",
            "created_at",
            "updated_at",
        ),
    )
    actions = loader.table(
        RelationshipActionItem,
        ("id", "plan_id", "title", "owner_id", "due_on", "done_on", "created_at", "updated_at"),
    )
    issues = loader.table(
        CustomerIssue,
        (
            "id",
            "customer_id",
            "title",
            "description",
            "raised_by_id",
            "owner_id",
            "status",
            "closed_at",
            "satisfaction",
            "evaluation",
            "created_at",
            "updated_at",
        ),
    )
    n = cust.count
    ids = {
        model: loader.first_id(model, per * n + 8)
        for model, per in (
            (CustomerBudget, 3),
            (CustomerBudgetLine, 12),
            (CustomerEvent, 2),
            (RelationshipAssessment, 8),
            (RelationshipPlan, 2),
            (RelationshipActionItem, 10),
            (CustomerIssue, 2),
        )
    }
    today = clock.today
    year = today.year
    # The last four completed quarters: (label, seconds ago at the quarter's last day).
    quarters = []
    current = year * 4 + (today.month - 1) // 3
    for back in range(1, 5):
        y, q = divmod(current - back, 4)
        next_start = dt.date(y + (q == 3), 1 if q == 3 else q * 3 + 4, 1)
        quarters.append((f"{y}Q{q + 1}", clock.ago_of_date(next_start - dt.timedelta(days=1), 12)))
    year_start, year_end = today.replace(month=1, day=1), today.replace(month=12, day=31)
    for i in range(n):
        cid, tier, ar, sr, fr = cust.id(i), cust.tier[i], cust.ar[i], cust.sr[i], cust.fr[i]
        if tier in "SAB":
            purchase_scale = {"S": 60_000_000, "A": 20_000_000, "B": 5_000_000}[tier]
            for budget_year in (year - 1, year, year + 1):
                bid = ids[CustomerBudget]
                ids[CustomerBudget] += 1
                # A year's budget is due by the end of the year before; some come in late, in January.
                due_ago = (today - dt.date(budget_year - 1, 12, 31)).days
                obtained_ago = due_ago + rand.between(-12, 45)
                obtained = clock.days_ago(obtained_ago) if obtained_ago >= 1 else None
                if budget_year > year and obtained is not None and rand.chance(0.45):
                    obtained = None  # next year's budget not obtained yet: the KPI shows the gap
                areas = rand.sample(vocab.BUDGET_AREAS, rand.between(2, 4))
                parts = [rand.between(2, 10) for _ in areas]
                total = rand.between(purchase_scale // 20_000, purchase_scale // 5_000) * 10_000 * 100
                split, allotted = [], 0
                for k, part in enumerate(parts):
                    amount = total - allotted if k == len(parts) - 1 else total * part // sum(parts)
                    allotted += amount
                    split.append(amount)
                stamp = clock.at(clock.ago_of_date(obtained) if obtained else 20 * DAY)
                budgets.add(
                    (
                        bid,
                        cid,
                        budget_year,
                        money(total),
                        "CNY",
                        obtained,
                        ar if obtained else None,
                        stamp,
                        stamp,
                    )
                )
                for area, amount in zip(areas, split, strict=True):
                    lines.add((ids[CustomerBudgetLine], bid, area, money(amount)))
                    ids[CustomerBudgetLine] += 1
        if tier in "SA":
            for title in rand.sample(vocab.CUSTOMER_EVENTS, 2):
                when = clock.days_ago(rand.between(-150, 200))
                stamp = clock.at(220 * DAY)
                events.add((ids[CustomerEvent], cid, when, title, "", stamp, stamp))
                ids[CustomerEvent] += 1
            # Key relationships: the top contacts, assessed each quarter by the AR.
            first = cust.contact_first[i]
            for contact_id in (first, first + 1):
                base = rand.between(2, 4)
                for label, ago in quarters:
                    scores = [min(5, max(1, base + rand.between(-1, 1))) for _ in range(6)]
                    stamp = clock.at(ago + rand.between(1, 10) * DAY)
                    assessments.add(
                        (ids[RelationshipAssessment], contact_id, label, ar, "KEY", *scores, "", stamp, stamp)
                    )
                    ids[RelationshipAssessment] += 1
        if tier in "SA" or (tier == "B" and rand.chance(0.5)):
            layers = ("KEY", "ORGANISATIONAL") if tier == "S" else ("KEY",)
            for layer in layers:
                pid = ids[RelationshipPlan]
                ids[RelationshipPlan] += 1
                stamp = clock.at(clock.ago_of_date(year_start) - 10 * DAY)
                plans.add(
                    (pid, cid, layer, year_start, year_end, vocab.PLAN_OBJECTIVES[layer], ar, stamp, stamp)
                )
                for title in rand.sample(vocab.PLAN_ACTIONS, rand.between(3, 5)):
                    due = year_start.replace(month=rand.between(1, 12), day=rand.between(1, 28))
                    done = None
                    if due < today and rand.chance(0.7):
                        done_day = due.replace(day=max(1, due.day - rand.between(0, 20)))
                        done = done_day if done_day < today else None
                    actions.add(
                        (
                            ids[RelationshipActionItem],
                            pid,
                            title,
                            rand.pick((ar, ar, sr)),
                            due,
                            done,
                            stamp,
                            stamp,
                        )
                    )
                    ids[RelationshipActionItem] += 1
        if rand.chance(0.45):
            for _ in range(rand.between(1, 2)):
                status = rand.pick(("RECEIVED", "HANDLING", "ESCALATED", "CLOSED", "CLOSED", "CLOSED"))
                opened_ago = rand.between(2, 400) * DAY - rand.between(9, 17) * 3600
                closed_at = satisfaction = None
                evaluation = ""
                if status == "CLOSED":
                    closed_ago = max(3600, opened_ago - rand.between(1, 40) * DAY)
                    closed_at = clock.at(closed_ago)
                    satisfaction = rand.pick((2, 3, 4, 4, 5, 5))
                    evaluation = "问题已解决，客户认可处理结果。" if satisfaction >= 4 else "处理时间偏长。"
                stamp = clock.at(opened_ago)
                issues.add(
                    (
                        ids[CustomerIssue],
                        cid,
                        rand.pick(vocab.ISSUE_TITLES),
                        "客户反馈，需跟踪闭环。",
                        cust.contact_first[i] + rand.between(0, cust.contact_count[i] - 1),
                        rand.pick((fr, ar)),
                        status,
                        closed_at,
                        satisfaction,
                        evaluation,
                        stamp,
                        closed_at or stamp,
                    )
                )
                ids[CustomerIssue] += 1
        if i % 2000 == 1999:
            loader.flush_full()


def build_visits(
    *, loader: Loader, rand: Rand, clock: Clock, org: Org, cust: Customers, scale: int, quota: int
) -> int:
    """Visits over recent weeks: each rep has a habit around the weekly quota (some under, some over)."""
    visits = loader.table(
        Visit,
        (
            "id",
            "external_id",
            "customer_id",
            "rep_id",
            "org_unit_id",
            "visited_on",
            "visit_type",
            "purpose",
            "outcome",
            "next_step",
            "next_step_on",
            "created_at",
            "updated_at",
        ),
    )
    met = loader.table(Visit.contacts.through, ("id", "visit_id", "contact_id"))
    reps = [(rep, dept) for dept in org.depts for rep in dept.reps]
    per_week = quota * 0.95
    # ≈ 10 visits per opportunity, at most a year of weeks (QUALITY.md: 10M visits at 1M opportunities).
    weeks = max(4, min(52, round(10 * scale / (len(reps) * per_week))))
    expected = int(len(reps) * weeks * per_week * 1.1) + 1000
    next_visit = loader.first_id(Visit, expected * 2)
    next_met = loader.first_id(Visit.contacts.through, expected * 4)
    this_monday = monday(clock.today)
    type_draw = Weighted(
        rand,
        (
            ("ROUTINE", 40),
            ("TECH_EXCHANGE", 12),
            ("TOPIC_EXCHANGE", 10),
            ("BUSINESS_DINNER", 8),
            ("EXECUTIVE_VISIT", 5),
            ("COMPANY_VISIT", 4),
            ("REFERENCE_SITE", 4),
            ("EXHIBITION", 4),
            ("SPONSOR_MEETING", 3),
            ("EXECUTIVE_SUMMIT", 1),
            ("TRIP_ACCOMPANIMENT", 3),
            ("HOME_VISIT", 2),
            ("COURTESY", 4),
        ),
    )
    owned: dict[int, list[int]] = {}
    for i, ar in enumerate(cust.ar):
        owned.setdefault(ar, []).append(i)
    count = 0
    for rep, dept in reps:
        mine = owned.get(rep) or dept.customers or [c for d in dept.office.depts for c in d.customers]
        if not mine:
            continue
        habit = rand.between(quota // 2, quota + 3)  # visits a typical week
        for week in range(weeks):
            week_start = this_monday.fromordinal(this_monday.toordinal() - 7 * week)
            days_back_to_monday = (clock.today - week_start).days
            workdays = [d for d in range(5) if days_back_to_monday - d >= 1]
            if not workdays:
                continue
            n = max(0, habit + rand.between(-2, 2))
            for _ in range(n):
                c = rand.pick(mine)
                days = days_back_to_monday - rand.pick(workdays)
                ago = days * DAY - rand.between(9, 18) * 3600
                vtype = type_draw()
                vid = next_visit
                next_visit += 1
                stamp = clock.at(ago - 2 * 3600)
                next_on = clock.days_ago(days - rand.between(3, 14))
                visits.add(
                    (
                        vid,
                        None,
                        cust.id(c),
                        rep,
                        dept.unit_id,
                        clock.days_ago(days),
                        vtype,
                        vocab.VISIT_PURPOSES[vtype],
                        rand.pick(vocab.VISIT_OUTCOMES),
                        rand.pick(vocab.NEXT_STEPS),
                        next_on,
                        stamp,
                        stamp,
                    )
                )
                first, k = cust.contact_first[c], cust.contact_count[c]
                a = rand.between(0, k - 1)
                met.add((next_met, vid, first + a))
                next_met += 1
                if k > 1 and rand.chance(0.4):
                    met.add((next_met, vid, first + (a + 1) % k))
                    next_met += 1
                samples = cust.visits[c]
                if len(samples) < 6:
                    samples.append((vid, ago))
                elif rand.chance(0.2):
                    samples[rand.between(0, 5)] = (vid, ago)
                count += 1
        loader.flush_full()
    return count
