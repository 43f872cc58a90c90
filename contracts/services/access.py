"""Who may act on a contract, the locked reads every write starts from, and input checks shared by the services.

Authority (decided for the LTC engine):

- Seeing a contract is `contracts.selectors.contract_visible_to`; an actor who cannot see it gets NotAllowed
  (the API answers 404 before reaching a service).
- Working a contract — confirming it, achieving milestones, issuing and cancelling invoices, recording
  receipts, proposing and applying changes, closing it — belongs to the people accountable for the cash:
  the contract owner, the AR or FR of the customer's iron triangle or of the won opportunity's team, a
  manager/executive whose org subtree holds the contract (or its owner), or an admin. A solution expert (SR)
  or a supporting member sees the contract but does not record money; a peer rep neither sees nor records.
- Deciding a change follows the gates: a manager/executive/admin whose scope covers the contract's org unit,
  within the amount limit of the decider's level (settings.LTC["GATE_AUTHORITY"], see decider_level_unit),
  and never the person who proposed it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import scope_for
from contracts.models import Contract
from contracts.selectors import contract_visible_to
from ltc.errors import ApplicationError, NotAllowed
from pipeline.models import OpportunityTeamMember
from relationships.models import CustomerTeamMember, TriangleRole

CENT = Decimal("0.01")
# money_field is DecimalField(max_digits=18, decimal_places=2): 16 digits before the point.
MONEY_LIMIT = Decimal("1e16")
CASH_ROLES = (TriangleRole.AR, TriangleRole.FR)


def not_visible() -> NotAllowed:
    return NotAllowed(
        _("You cannot see this contract. 您无权查看该合同。"), {"contract": [_("Not found. 不存在。")]}
    )


def lock_contract(*, contract: Contract | int, actor: User) -> Contract:
    """Lock the contract row (SELECT … FOR UPDATE) and return it freshly read under the lock.

    Every service that checks or moves money locks the contract first, then milestones, then invoices:
    one order everywhere, so two writers queue instead of deadlocking.
    """
    pk = contract if isinstance(contract, int) else contract.pk
    if not contract_visible_to(actor).filter(pk=pk).exists():
        raise not_visible()
    return Contract.objects.select_for_update(of=("self",)).select_related("org_unit", "owner").get(pk=pk)


def is_manager_above(actor: User, contract: Contract) -> bool:
    """An admin, or a manager/executive whose subtree holds the contract's org unit or its owner."""
    if actor.sees_everything:
        return True
    if not actor.is_manager:
        return False
    scope = scope_for(actor)
    return scope.covers_unit(contract.org_unit) or (
        contract.owner_id != actor.pk and scope.covers_user(contract.owner)
    )


def can_work(actor: User, contract: Contract) -> bool:
    if contract.owner_id == actor.pk or is_manager_above(actor, contract):
        return True
    if CustomerTeamMember.objects.filter(
        customer_id=contract.customer_id, user_id=actor.pk, role__in=CASH_ROLES
    ).exists():
        return True
    return contract.opportunity_id is not None and (
        OpportunityTeamMember.objects.filter(
            opportunity_id=contract.opportunity_id, user_id=actor.pk, role__in=CASH_ROLES
        ).exists()
    )


def check_can_work(actor: User, contract: Contract) -> None:
    if not can_work(actor, contract):
        raise NotAllowed(
            _(
                "Only the contract owner, the AR or FR, a manager above or an admin may do this. "
                "只有合同负责人、客户经理(AR)或交付经理(FR)、上级主管或管理员可以执行此操作。"
            )
        )


def save_as(instance: Model, actor: User | None, *, update_fields: list[str] | None = None) -> None:
    """Save with the audit history naming the actor."""
    instance._history_user = actor  # type: ignore[attr-defined]
    instance.save(update_fields=update_fields)


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A money amount from the caller: a finite, non-negative (positive) Decimal with at most 2 decimals."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ApplicationError(
            _("Enter a valid amount. 请输入有效金额。"), {field: [_("Not a number. 不是有效数字。")]}
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ApplicationError(
            _("The amount must be greater than zero. 金额必须大于零。"),
            {field: [_("Must be positive. 必须为正数。")]},
        )
    if amount != amount.quantize(CENT) or amount >= MONEY_LIMIT:
        raise ApplicationError(
            _("An amount has at most 2 decimals and 16 digits. 金额最多两位小数、16位整数。"),
            {field: [_("Too precise or too large. 精度或数值超出范围。")]},
        )
    return amount.quantize(CENT)


def decider_level_unit(actor: User, unit: OrgUnit) -> OrgUnit | None:
    """The unit whose level `actor` decides at for records of `unit`, or None without authority.

    As for gate decisions: a manager/executive decides at the top unit of the part of the tree they hold
    that contains `unit`; an admin at `unit`'s ancestor of the admin's own kind of unit, else headquarters.
    """
    if actor.sees_everything:
        ancestors = list(unit.ancestors())
        if actor.org_unit is not None:
            same_kind = [anc for anc in ancestors if anc.kind == actor.org_unit.kind]
            if same_kind:
                return same_kind[0]
        return ancestors[0] if ancestors else None
    if not actor.is_manager:
        return None
    path = next((p for p in scope_for(actor).unit_paths if unit.path.startswith(p)), None)
    if path is None:
        return None
    return OrgUnit.objects.get(path=path)
