"""Opportunity writes: creation, the stage machine and its gates, the deal team, the BOQ, support requests.

Every service takes the acting user, refuses what the actor may not do (NotAllowed), locks the opportunity row
before a change, records who did it, and is safe to call twice.
"""

from pipeline.services.opportunities.create import opportunity_create

__all__ = ["opportunity_create"]
