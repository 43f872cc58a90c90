"""Two transitions of one opportunity at the same time: the row lock lets exactly one through.

PostgreSQL only (SQLite has no row locks); the threads run real transactions, so the test database is
flushed afterwards (transaction=True).
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from ltc.errors import ApplicationError
from pipeline.models import Opportunity, Stage, StageTransition
from pipeline.services.opportunities import (
    gate_decide,
    opportunity_lose,
    opportunity_mark_won,
    opportunity_move_stage,
)
from tests.factories import opportunity_deal, opportunity_drive_to

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


@pytest.fixture
def negotiating(tree):
    deal = opportunity_deal(tree)
    opp = opportunity_drive_to(deal, Stage.NEGOTIATE)
    gate_decide(opportunity=opp, actor=deal.dept_manager, gate="ATC", outcome="GO")
    return deal


def race(*calls: Callable[[], object]) -> list[object]:
    """Start every call at the same moment in its own thread; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_mark_won_at_once_make_one_transition(negotiating):
    deal = negotiating
    results = race(
        lambda: opportunity_mark_won(opportunity=Opportunity(pk=deal.opp.pk), actor=deal.rep),
        lambda: opportunity_mark_won(opportunity=Opportunity(pk=deal.opp.pk), actor=deal.dept_manager),
    )
    assert all(isinstance(result, Opportunity) for result in results), results
    assert {result.stage for result in results} == {Stage.WON}
    assert StageTransition.objects.filter(opportunity_id=deal.opp.pk, to_stage=Stage.WON).count() == 1
    opp = Opportunity.objects.get(pk=deal.opp.pk)
    assert opp.stage == Stage.WON
    # Both threads return the one closing time written by the winner.
    assert {result.closed_at for result in results} == {opp.closed_at}
    assert opp.history.filter(stage=Stage.WON).count() == 1


def test_won_and_lost_at_once_exactly_one_wins(negotiating):
    deal = negotiating
    results = race(
        lambda: opportunity_mark_won(opportunity=Opportunity(pk=deal.opp.pk), actor=deal.rep),
        lambda: opportunity_lose(
            opportunity=Opportunity(pk=deal.opp.pk), actor=deal.sr, reason="客户改选竞品"
        ),
    )
    winners = [r for r in results if isinstance(r, Opportunity)]
    losers = [r for r in results if isinstance(r, ApplicationError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "已关闭" in str(losers[0]) and "is closed" in str(losers[0])
    final = Opportunity.objects.get(pk=deal.opp.pk)
    assert final.stage == winners[0].stage
    closing = StageTransition.objects.filter(opportunity_id=deal.opp.pk, to_stage__in=[Stage.WON, Stage.LOST])
    assert list(closing.values_list("to_stage", flat=True)) == [final.stage]


def test_conflicting_moves_at_once_only_one_applies(negotiating):
    """Back to BID (with a reason) against a win: one of them sees the other's stage under the lock."""
    deal = negotiating
    results = race(
        lambda: opportunity_move_stage(
            opportunity=Opportunity(pk=deal.opp.pk), actor=deal.rep, to_stage=Stage.BID, reason="重新报价"
        ),
        lambda: opportunity_mark_won(opportunity=Opportunity(pk=deal.opp.pk), actor=deal.dept_manager),
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ApplicationError)
    after_negotiate = StageTransition.objects.filter(opportunity_id=deal.opp.pk, from_stage=Stage.NEGOTIATE)
    assert after_negotiate.count() == 1
    assert Opportunity.objects.get(pk=deal.opp.pk).stage == after_negotiate.get().to_stage
