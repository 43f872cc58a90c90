"""Contracts for won deals, payment milestones from the terms, invoices, receipts, and KPI targets."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings

from contracts.models import Contract, ContractNumberSequence, Invoice, PaymentMilestone, Receipt
from ltc.models import KpiTarget
from ltc.seed.base import Clock, Loader, Rand, Weighted, money
from ltc.seed.org import Org
from ltc.seed.pipeline import WonDeal

DAY = Clock.DAY


def _quarter(day: dt.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def _quarter_bounds(key: int) -> tuple[dt.date, dt.date]:
    year, q = divmod(key, 4)
    start = dt.date(year, q * 3 + 1, 1)
    end = dt.date(year + (q == 3), 1 if q == 3 else q * 3 + 4, 1) - dt.timedelta(days=1)
    return start, end


class Actuals:
    """Money per (account department unit id, quarter), for KPI targets near the real figures."""

    def __init__(self) -> None:
        self.orders: dict[tuple[int, int], int] = defaultdict(int)
        self.profit: dict[tuple[int, int], int] = defaultdict(int)
        self.revenue: dict[tuple[int, int], int] = defaultdict(int)
        self.collections: dict[tuple[int, int], int] = defaultdict(int)


def build_contracts(*, loader: Loader, rand: Rand, clock: Clock, org: Org, won: list[WonDeal]) -> Actuals:
    contracts = loader.table(
        Contract,
        (
            "id",
            "external_id",
            "number",
            "title",
            "opportunity_id",
            "customer_id",
            "owner_id",
            "org_unit_id",
            "amount",
            "currency",
            "signed_on",
            "payment_terms",
            "status",
            "confirmed_at",
            "closed_at",
            "evaluation",
            "evaluation_score",
            "invoiced_amount",
            "collected_amount",
            "created_at",
            "updated_at",
        ),
    )
    milestones = loader.table(
        PaymentMilestone,
        (
            "id",
            "contract_id",
            "sequence",
            "kind",
            "percent",
            "amount",
            "planned_on",
            "achieved_on",
            "invoiced_amount",
            "created_at",
            "updated_at",
        ),
    )
    invoices = loader.table(
        Invoice,
        (
            "id",
            "external_id",
            "contract_id",
            "milestone_id",
            "number",
            "amount",
            "currency",
            "issued_on",
            "due_on",
            "status",
            "paid_amount",
            "created_at",
            "updated_at",
        ),
    )
    receipts = loader.table(
        Receipt,
        (
            "id",
            "external_id",
            "contract_id",
            "invoice_id",
            "amount",
            "currency",
            "received_on",
            "reference",
            "recorded_by_id",
            "created_at",
            "updated_at",
        ),
    )
    n = len(won)
    first = loader.first_id(Contract, n)
    ids = {
        m: loader.first_id(m, n * per + 8) for m, per in ((PaymentMilestone, 3), (Invoice, 8), (Receipt, 12))
    }
    terms = settings.LTC["PAYMENT_TERMS"]
    terms_draw = Weighted(rand, (("STANDARD", 60), ("DELIVERY", 20), ("ADVANCE_FAC", 20)))
    numbers = dict(ContractNumberSequence.objects.values_list("year", "last_value"))
    actuals = Actuals()
    for k, deal in enumerate(won):
        cid = first + k
        won_days = (deal.won_ago + DAY - 1) // DAY
        signed_days = max(1, won_days - rand.between(0, 10))
        signed_on = clock.days_ago(signed_days)
        numbers[signed_on.year] = numbers.get(signed_on.year, 0) + 1
        number = f"HT-{signed_on.year}-{numbers[signed_on.year]:06d}"
        term = terms_draw()
        dept = org.depts[deal.dept]
        quarter_key = (dept.unit_id, _quarter(signed_on))
        actuals.orders[quarter_key] += deal.amount
        actuals.profit[quarter_key] += int(deal.amount * deal.margin / 100)
        created = clock.at(signed_days * DAY - 11 * 3600)
        invoiced_total = collected_total = 0
        all_achieved = True
        last_receipt_days = None
        allotted = 0
        rows = terms[term]
        for seq, (kind, pct, after_days) in enumerate(rows, start=1):
            mid = ids[PaymentMilestone]
            ids[PaymentMilestone] += 1
            if seq == len(rows):
                part = deal.amount - allotted
            else:
                part = (deal.amount * pct * 2 + 100) // 200  # half up, in cents
                allotted += part
            planned_days = signed_days - after_days  # negative: still ahead
            achieved_days = None
            if planned_days >= 1 and rand.chance(0.88):
                achieved_days = planned_days - rand.between(-10, 40)
                if achieved_days < 1:
                    achieved_days = None
            if achieved_days is None:
                all_achieved = False
            milestone_invoiced = 0
            if achieved_days is not None:
                pieces = 1 if rand.chance(0.4) else 2 if rand.chance(0.6) else 3  # ≈ 3 invoices a contract
                split = [part // pieces] * (pieces - 1) + [part - part // pieces * (pieces - 1)]
                issue_days = achieved_days - rand.between(0, 15)
                for piece in split:
                    if issue_days < 1 or piece <= 0:
                        break
                    if rand.chance(0.02):  # a wrong invoice, cancelled and issued again
                        _invoice(
                            invoices, ids, cid, mid, clock, issue_days, issue_days - 30, piece, "CANCELLED", 0
                        )
                    paid, receipt_days = _payment(rand, issue_days, piece)
                    term_days = rand.pick((30, 60, 90))
                    iid = _invoice(
                        invoices,
                        ids,
                        cid,
                        mid,
                        clock,
                        issue_days,
                        issue_days - term_days,
                        piece,
                        "PAID" if paid == piece else "PARTIALLY_PAID" if paid else "ISSUED",
                        paid,
                    )
                    milestone_invoiced += piece
                    actuals.revenue[(dept.unit_id, _quarter(clock.days_ago(issue_days)))] += piece
                    for amount, days in receipt_days:
                        rid = ids[Receipt]
                        ids[Receipt] += 1
                        stamp = clock.at(days * DAY - 15 * 3600)
                        receipts.add(
                            (
                                rid,
                                f"ERP-RCP-{rid:08d}",
                                cid,
                                iid,
                                money(amount),
                                "CNY",
                                clock.days_ago(days),
                                f"BANK{rid:012d}",
                                deal.owner,
                                stamp,
                                stamp,
                            )
                        )
                        actuals.collections[(dept.unit_id, _quarter(clock.days_ago(days)))] += amount
                        collected_total += amount
                        last_receipt_days = (
                            days if last_receipt_days is None else min(last_receipt_days, days)
                        )
                    issue_days -= rand.between(20, 60)
            if milestone_invoiced < part:
                all_achieved = False
            invoiced_total += milestone_invoiced
            m_stamp = clock.at((achieved_days or signed_days) * DAY - 12 * 3600)
            milestones.add(
                (
                    mid,
                    cid,
                    seq,
                    kind,
                    f"{pct}.00",
                    money(part),
                    clock.days_ago(planned_days),
                    clock.days_ago(achieved_days) if achieved_days is not None else None,
                    money(milestone_invoiced),
                    created,
                    m_stamp,
                )
            )
        status, confirmed_at, closed_at, evaluation, score = "EXECUTING", None, None, "", None
        if signed_days <= 20:
            status = "RECEIVED"
        else:
            confirmed_at = clock.at((signed_days - rand.between(1, 5)) * DAY + 8 * 3600)
            if all_achieved and collected_total == deal.amount and last_receipt_days is not None:
                status = "CLOSED"
                close_days = max(1, last_receipt_days - rand.between(5, 30))
                closed_at = clock.at(close_days * DAY - 16 * 3600)
                score = rand.pick((3, 4, 4, 5, 5))
                evaluation = "合同履行顺利，客户满意。" if score >= 4 else "交付有延迟，已复盘改进。"
        contracts.add(
            (
                cid,
                f"ERP-CTR-{cid:08d}",
                number,
                deal.name,
                deal.opportunity_id,
                deal.customer_id,
                deal.owner,
                dept.unit_id,
                money(deal.amount),
                "CNY",
                signed_on,
                term,
                status,
                confirmed_at,
                closed_at,
                evaluation,
                score,
                money(invoiced_total),
                money(collected_total),
                created,
                closed_at or created,
            )
        )
        if k % 2000 == 1999:
            loader.flush_full()
    loader.flush_all()
    for year, last in numbers.items():
        ContractNumberSequence.objects.update_or_create(year=year, defaults={"last_value": last})
    return actuals


def _payment(rand: Rand, issue_days: int, amount: int) -> tuple[int, list[tuple[int, int]]]:
    """How much of an invoice was paid, and the receipts (amount, days ago). Overdue ones stay open."""
    roll = rand.random()
    if roll < 0.62:
        paid = amount
    elif roll < 0.77:
        paid = amount * rand.between(20, 80) // 100
    else:
        return 0, []
    receipt_days = issue_days - rand.between(15, 110)
    if receipt_days < 1:  # not due yet or not received yet
        return 0, []
    if paid == amount and rand.chance(0.2) and issue_days - receipt_days > 2:
        first = amount * rand.between(40, 70) // 100
        second_days = max(1, receipt_days - rand.between(5, 40))
        earlier = min(issue_days, receipt_days + rand.between(1, 20))
        return paid, [(first, earlier), (amount - first, second_days)]
    return paid, [(paid, receipt_days)]


def _invoice(
    table, ids, contract_id, milestone_id, clock: Clock, issue_days, due_days, amount, status, paid
) -> int:
    iid = ids[Invoice]
    ids[Invoice] += 1
    issued = clock.days_ago(issue_days)
    stamp = clock.at(issue_days * DAY - 14 * 3600)
    table.add(
        (
            iid,
            f"ERP-INV-{iid:08d}",
            contract_id,
            milestone_id,
            f"FP-{issued.year}-{iid:08d}",
            money(amount),
            "CNY",
            issued,
            clock.days_ago(due_days),
            status,
            money(paid),
            stamp,
            stamp,
        )
    )
    return iid


def build_kpi_targets(
    *, loader: Loader, rand: Rand, clock: Clock, org: Org, actuals: Actuals, quota: int
) -> None:
    """Targets per org unit, metric and quarter: the last five quarters, this one and the next."""
    table = loader.table(
        KpiTarget,
        (
            "id",
            "metric",
            "period_start",
            "period_end",
            "org_unit_id",
            "target_amount",
            "currency",
            "created_at",
            "updated_at",
        ),
    )
    current = _quarter(clock.today)
    quarters = list(range(current - 5, current + 2))
    children: dict[int, list[int]] = defaultdict(list)
    for uid, _kind, parent in org.units:
        if parent is not None:
            children[parent].append(uid)
    reps = {d.unit_id: len(d.reps) for d in org.depts}

    def dept_targets(metric_values: dict, dept_id: int) -> dict[int, int]:
        history = [metric_values.get((dept_id, q), 0) for q in quarters if q < current]
        recent = [v for v in history[-4:] if v] or [0]
        baseline = sum(recent) // len(recent)
        out = {}
        for q in quarters:
            actual = metric_values.get((dept_id, q), 0) if q < current else int(baseline * 1.1)
            out[q] = max(actual, baseline // 2) * rand.between(85, 125) // 100 // 1_000_000 * 1_000_000
        return out

    per_unit: dict[tuple[str, int], dict[int, int]] = {}
    for metric, values in (
        ("ORDERS", actuals.orders),
        ("REVENUE", actuals.revenue),
        ("COLLECTIONS", actuals.collections),
        ("PROFIT", actuals.profit),
    ):
        for dept in org.depts:
            per_unit[(metric, dept.unit_id)] = dept_targets(values, dept.unit_id)
    for dept in org.depts:
        per_unit[("VISITS", dept.unit_id)] = dict.fromkeys(quarters, reps[dept.unit_id] * quota * 13 * 100)

    def total(metric: str, uid: int) -> dict[int, int]:
        if (metric, uid) not in per_unit:
            sums = defaultdict(int)
            for child in children[uid]:
                for q, v in total(metric, child).items():
                    sums[q] += v
            per_unit[(metric, uid)] = {q: sums[q] for q in quarters}
        return per_unit[(metric, uid)]

    next_id = loader.first_id(KpiTarget, len(org.units) * 5 * len(quarters))
    stamp = clock.at((clock.today - _quarter_bounds(current - 5)[0]).days * DAY)
    for uid, _kind, _parent in org.units:
        for metric in ("ORDERS", "REVENUE", "COLLECTIONS", "PROFIT", "VISITS"):
            for q, value in total(metric, uid).items():
                start, end = _quarter_bounds(q)
                table.add((next_id, metric, start, end, uid, money(value), "CNY", stamp, stamp))
                next_id += 1
