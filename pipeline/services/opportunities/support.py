"""Support requests (呼唤炮火): the triangle calls the resource centre; a manager assigns an expert."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import Opportunity, OpportunityTeamMember, SupportRequest
from pipeline.services.opportunities.access import (
    check_can_drive,
    check_open,
    is_manager_above,
    lock_visible,
    save_as,
)
from relationships.models import TriangleRole

Status = SupportRequest.Status


@transaction.atomic
def support_request_create(
    *, opportunity: Opportunity, actor: User, expertise: str, need: str, needed_by: dt.date
) -> SupportRequest:
    """Ask for an expert on an open opportunity. The same open request made again is returned, not doubled."""
    opp = lock_visible(opportunity=opportunity, actor=actor)
    check_open(opp)
    check_can_drive(actor, opp)
    errors: dict[str, list[str]] = {}
    if expertise not in SupportRequest.Expertise.values:
        errors["expertise"] = [_("Invalid. 无效。")]
    need = (need or "").strip()
    if not need:
        errors["need"] = [_("Required. 必填。")]
    if not isinstance(needed_by, dt.date) or needed_by < timezone.localdate():
        errors["needed_by"] = [_("Must be today or later. 不能早于今天。")]
    if errors:
        raise ApplicationError(_("Please correct the support request. 请修正支援请求。"), errors)
    existing = SupportRequest.objects.filter(
        opportunity_id=opp.pk,
        requested_by=actor,
        expertise=expertise,
        need=need,
        needed_by=needed_by,
        status=Status.OPEN,
    ).first()
    if existing is not None:
        return existing
    return SupportRequest.objects.create(
        opportunity=opp, requested_by=actor, expertise=expertise, need=need, needed_by=needed_by
    )


def _lock_request(request: SupportRequest, actor: User) -> tuple[Opportunity, SupportRequest]:
    opp = lock_visible(opportunity=request.opportunity_id, actor=actor)
    return opp, SupportRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)


@transaction.atomic
def support_request_assign(*, request: SupportRequest, actor: User, expert: User) -> SupportRequest:
    """A manager (or admin) of the resource centre assigns an expert, who joins the deal team as SUPPORT.

    assigned_at keeps the first assignment (the response time); re-assigning the same expert changes nothing.
    """
    if not (actor.is_manager or actor.sees_everything):
        raise NotAllowed(_("Only a manager or an admin may assign an expert. 只有主管或管理员可以指派专家。"))
    opp, req = _lock_request(request, actor)
    check_open(opp)
    if req.status not in (Status.OPEN, Status.ASSIGNED):
        raise ApplicationError(
            _("This support request is already closed. 该支援请求已关闭。"), {"status": [req.status]}
        )
    if not expert.is_active:
        raise ApplicationError(
            _("An inactive user cannot be assigned. 不能指派已停用的用户。"),
            {"expert": [_("Inactive. 已停用。")]},
        )
    if req.status == Status.ASSIGNED and req.expert_id == expert.pk:
        return req
    req.expert, req.status = expert, Status.ASSIGNED
    req.assigned_at = req.assigned_at or timezone.now()
    req.save(update_fields=["expert", "status", "assigned_at", "updated_at"])
    if not OpportunityTeamMember.objects.filter(opportunity_id=opp.pk, user_id=expert.pk).exists():
        save_as(OpportunityTeamMember(opportunity=opp, user=expert, role=TriangleRole.SUPPORT), actor)
    return req


@transaction.atomic
def support_request_close(*, request: SupportRequest, actor: User, cancel: bool = False) -> SupportRequest:
    """Close a request: DONE once an expert was assigned, or CANCELLED (from open or assigned).

    The requester, the deal's owner and triangle, or a manager above may close it. Closing it again the same
    way changes nothing.
    """
    opp, req = _lock_request(request, actor)
    target = Status.CANCELLED if cancel else Status.DONE
    if req.status == target:
        return req
    if req.requested_by_id != actor.pk and not is_manager_above(actor, opp):
        check_can_drive(actor, opp)
    if req.status not in (Status.OPEN, Status.ASSIGNED):
        raise ApplicationError(
            _("This support request is already closed. 该支援请求已关闭。"), {"status": [req.status]}
        )
    if target == Status.DONE and req.status != Status.ASSIGNED:
        raise ApplicationError(
            _("Only a request with an assigned expert can be done. 只有已指派专家的请求才能完成。"),
            {"status": [req.status]},
        )
    req.status = target
    req.save(update_fields=["status", "updated_at"])
    return req
