"""Import every domain's tables so the shared metadata is complete (for migrations and tests)."""

from cxo.cases.models import cases
from cxo.customers.models import (
    customers,
    identity_constraints,
    identity_links,
    resolution_runs,
    source_records,
)
from cxo.engines.models import customer_stage_stats
from cxo.governance.models import (
    api_tokens,
    audit_head,
    audit_log,
    users,
    web_sessions,
)
from cxo.imports.models import import_quarantine, imports
from cxo.interactions.models import interactions, transactions
from cxo.store.metadata import metadata
from cxo.surveys.models import (
    answers,
    invitations,
    responses,
    survey_instruments,
    survey_links,
    survey_optouts,
    survey_triggers,
    survey_waves,
    surveys,
)
from cxo.treatments.models import decisions, outcomes, treatments

__all__ = [
    "answers",
    "api_tokens",
    "audit_head",
    "audit_log",
    "cases",
    "customer_stage_stats",
    "customers",
    "decisions",
    "identity_constraints",
    "identity_links",
    "import_quarantine",
    "imports",
    "interactions",
    "invitations",
    "metadata",
    "outcomes",
    "resolution_runs",
    "responses",
    "source_records",
    "survey_instruments",
    "survey_links",
    "survey_optouts",
    "survey_triggers",
    "survey_waves",
    "surveys",
    "transactions",
    "treatments",
    "users",
    "web_sessions",
]
