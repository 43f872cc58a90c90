"""The deal team: one AR, SR and FR each (the iron triangle), sponsors, supporting members, credit shares."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Opportunity, OpportunityTeamMember
from pipeline.services.opportunities.access import (
    check_open,
    delete_as,
    is_manager_above,
    lock_visible,
    save_as,
)
from relationships.models import IRON_TRIANGLE, TriangleRole

# Roles held by one person at a time on a deal (the database enforces it too: oppteam_one_per_role).
SINGLE_ROLES = (TriangleRole.AR, TriangleRole.SR, TriangleRole.FR, TriangleRole.SPONSOR)


def triangle_missing(opp: Opportunity) -> list[str]:
    present = set(
        OpportunityTeamMember.objects.filter(opportunity_id=opp.pk, role__in=IRON_TRIANGLE).values_list(
            "role", flat=True
        )
    )
    return [role for role in IRON_TRIANGLE if role not in present]


def check_triangle_complete(opp: Opportunity) -> None:
    """The iron triangle (AR, SR, FR) must be complete before the bid decision (ATB)."""
    missing = triangle_missing(opp)
    if missing:
        raise ApplicationError(
            _(
                "The iron triangle is incomplete (missing %(roles)s); complete it before the bid decision. "
                "铁三角不完整（缺少%(roles)s），投标决策前必须配齐。"
            )
            % {"roles": ", ".join(missing)},
            {"team": [_("Missing %(roles)s. 缺少%(roles)s。") % {"roles": ", ".join(missing)}]},
        )


def _check_can_change_team(actor: User, opp: Opportunity) -> None:
    """Only the owner, the deal's AR or a manager above may change the team."""
    if opp.owner_id == actor.pk or is_manager_above(actor, opp):
        return
    if OpportunityTeamMember.objects.filter(
        opportunity_id=opp.pk, user_id=actor.pk, role=TriangleRole.AR
    ).exists():
        return
    raise NotAllowed(
        _(
            "Only the owner, the AR or a manager above may change the team. "
            "只有负责人、客户经理(AR)或上级主管可以调整团队。"
        )
    )


def _check_share(credit_share: Decimal) -> Decimal:
    share = Decimal(credit_share)
    if share < 0 or share > 100:
        raise ApplicationError(
            _("A credit share is a percentage from 0 to 100. 业绩分配比例须在0到100之间。"),
            {"credit_share": [_("0–100. 须在0到100之间。")]},
        )
    return share


@transaction.atomic
def opportunity_team_set(
    *,
    opportunity: Opportunity,
    actor: User,
    user: User,
    role: str,
    credit_share: Decimal | int | None = None,
) -> OpportunityTeamMember:
    """Put `user` on the deal team in `role` (and set their credit share when given).

    AR, SR, FR and SPONSOR are held by one person each: giving the role to someone else moves the previous
    holder off the team. The credit shares of the whole team may not add up to more than 100. Calling it again
    with the same values changes nothing.
    """
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    _check_can_change_team(actor, opp)
    if role not in TriangleRole.values:
        raise ApplicationError(_("Unknown team role. 未知的团队角色。"), {"role": [_("Invalid. 无效。")]})
    if not user.is_active:
        raise ApplicationError(
            _("An inactive user cannot join the team. 已停用的用户不能加入团队。"),
            {"user": [_("Inactive. 已停用。")]},
        )

    team = {member.user_id: member for member in OpportunityTeamMember.objects.filter(opportunity_id=opp.pk)}
    current = team.get(user.pk)
    holder = None
    if role in SINGLE_ROLES:
        holder = next((m for m in team.values() if m.role == role and m.user_id != user.pk), None)
    if credit_share is None:
        share = current.credit_share if current else Decimal(0)
    else:
        share = _check_share(credit_share)
    others = sum(
        (m.credit_share for m in team.values() if m.user_id != user.pk and m is not holder), Decimal(0)
    )
    if others + share > 100:
        raise ApplicationError(
            _(
                "Credit shares would add up to %(total)s%%, more than 100%%. "
                "业绩分配合计将为%(total)s%%，超过100%%。"
            )
            % {"total": others + share},
            {"credit_share": [_("Total over 100. 合计超过100。")]},
        )
    if current is not None and current.role == role and current.credit_share == share:
        return current
    if holder is not None:
        delete_as(holder, actor)
    if current is None:
        current = OpportunityTeamMember(opportunity=opp, user=user, role=role, credit_share=share)
        save_as(current, actor)
    else:
        current.role, current.credit_share = role, share
        save_as(current, actor, update_fields=["role", "credit_share", "updated_at"])
    return current


@transaction.atomic
def opportunity_team_remove(*, opportunity: Opportunity, actor: User, user: User) -> None:
    """Take `user` off the deal team. Removing someone who is not on it changes nothing."""
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    _check_can_change_team(actor, opp)
    member = OpportunityTeamMember.objects.filter(opportunity_id=opp.pk, user_id=user.pk).first()
    if member is not None:
        delete_as(member, actor)
