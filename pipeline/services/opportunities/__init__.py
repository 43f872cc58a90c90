"""Opportunity writes: creation, the stage machine and its gates, the deal team, the BOQ, support requests.

Every service takes the acting user, refuses what the actor may not do (NotAllowed, which includes acting on an
opportunity the actor cannot see), locks the opportunity row before a change and re-reads it under the lock,
records who did it (StageTransition, simple_history's history_user), and is safe to call twice.
"""

from pipeline.services.opportunities.boq import line_amount, opportunity_line_remove, opportunity_line_set
from pipeline.services.opportunities.create import opportunity_create, stage_probability
from pipeline.services.opportunities.gates import (
    authority_limit,
    decider_level_unit,
    effective_decision,
    gate_decide,
    gate_escalation_unit,
)
from pipeline.services.opportunities.stages import (
    opportunity_abandon,
    opportunity_lose,
    opportunity_mark_won,
    opportunity_move_stage,
    opportunity_set_probability,
    opportunity_update,
)
from pipeline.services.opportunities.support import (
    support_request_assign,
    support_request_close,
    support_request_create,
)
from pipeline.services.opportunities.team import (
    opportunity_team_remove,
    opportunity_team_set,
    triangle_missing,
)

__all__ = [
    "authority_limit",
    "decider_level_unit",
    "effective_decision",
    "gate_decide",
    "gate_escalation_unit",
    "line_amount",
    "opportunity_abandon",
    "opportunity_create",
    "opportunity_line_remove",
    "opportunity_line_set",
    "opportunity_lose",
    "opportunity_mark_won",
    "opportunity_move_stage",
    "opportunity_set_probability",
    "opportunity_team_remove",
    "opportunity_team_set",
    "opportunity_update",
    "stage_probability",
    "support_request_assign",
    "support_request_close",
    "support_request_create",
    "triangle_missing",
]
