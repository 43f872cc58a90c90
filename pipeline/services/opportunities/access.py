"""Who may act on an opportunity, and the locked read every write starts from."""

from __future__ import annotations

from django.db.models import Model
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import scope_for
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import OPEN_STAGES, Opportunity, OpportunityTeamMember
from pipeline.selectors import opportunity_visible_to
from relationships.models import IRON_TRIANGLE


def not_visible() -> NotAllowed:
    return NotAllowed(
        _("You cannot see this opportunity. 您无权查看该机会点。"),
        {"opportunity": [_("Not found. 不存在。")]},
    )


def lock_visible(*, opportunity: Opportunity | int, actor: User) -> Opportunity:
    """Lock the opportunity row (SELECT … FOR UPDATE) and return it freshly read under the lock.

    An actor who cannot see the opportunity gets NotAllowed (the API turns an invisible record into a 404
    before it gets here). The row is re-read after the lock, so the stage checked is the committed one.
    """
    pk = opportunity if isinstance(opportunity, int) else opportunity.pk
    if not opportunity_visible_to(actor).filter(pk=pk).exists():
        raise not_visible()
    # of=("self",): lock the opportunity row only, not the joined org unit and customer rows.
    return (
        Opportunity.objects.select_for_update(of=("self",)).select_related("org_unit", "customer").get(pk=pk)
    )


def is_manager_above(actor: User, opp: Opportunity) -> bool:
    """An admin, or a manager/executive whose subtree holds the opportunity's org unit."""
    if actor.sees_everything:
        return True
    return actor.is_manager and scope_for(actor).covers_unit(opp.org_unit)


def can_drive(actor: User, opp: Opportunity) -> bool:
    """Who runs the deal: the owner, its iron triangle (AR/SR/FR), or a manager above it."""
    if opp.owner_id == actor.pk or is_manager_above(actor, opp):
        return True
    return OpportunityTeamMember.objects.filter(
        opportunity_id=opp.pk, user_id=actor.pk, role__in=IRON_TRIANGLE
    ).exists()


def check_can_drive(actor: User, opp: Opportunity) -> None:
    if not can_drive(actor, opp):
        raise NotAllowed(
            _(
                "Only the owner, the iron triangle or a manager above may change this opportunity. "
                "只有负责人、项目铁三角或上级主管可以修改该机会点。"
            )
        )


def check_open(opp: Opportunity) -> None:
    if opp.stage not in OPEN_STAGES:
        raise ApplicationError(
            _("This opportunity is closed (%(stage)s) and cannot change. 该机会点已关闭，不能再修改。")
            % {"stage": opp.get_stage_display()},
            {"stage": [_("Closed. 已关闭。")]},
        )


def save_as(
    instance: Model, actor: User, *, update_fields: list[str] | None = None, reason: str = ""
) -> None:
    """Save with the audit history naming the actor (and the reason, when there is one)."""
    instance._history_user = actor  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason[:100]  # type: ignore[attr-defined]
    instance.save(update_fields=update_fields)


def delete_as(instance: Model, actor: User) -> None:
    instance._history_user = actor  # type: ignore[attr-defined]
    instance.delete()
