"""Contract and cash writes. Import from here: `from contracts.services import receipt_record`.

- lifecycle: opportunity_win, contract_create, contract_confirm, milestone_achieve, contract_close
- cash: invoice_issue, invoice_cancel, receipt_record, invoice_overdue_mark
- changes: contract_change_propose, contract_change_decide, contract_change_apply
- access: who may act on a contract (documented there)
"""

from contracts.services.cash import invoice_cancel, invoice_issue, invoice_overdue_mark, receipt_record
from contracts.services.changes import contract_change_apply, contract_change_decide, contract_change_propose
from contracts.services.lifecycle import (
    contract_close,
    contract_confirm,
    contract_create,
    milestone_achieve,
    milestone_plan,
    opportunity_win,
)

__all__ = [
    "contract_change_apply",
    "contract_change_decide",
    "contract_change_propose",
    "contract_close",
    "contract_confirm",
    "contract_create",
    "invoice_cancel",
    "invoice_issue",
    "invoice_overdue_mark",
    "milestone_achieve",
    "milestone_plan",
    "opportunity_win",
    "receipt_record",
]
