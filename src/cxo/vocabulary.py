"""The product's shared vocabulary, marked for translation (see shared guide: product.md).

``N_`` marks a string for extraction without translating it here; templates and code translate it
where it is shown, e.g. ``_(stage)``.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


LIFECYCLE_STAGES = (N_("engage"), N_("transact"), N_("fulfil"), N_("service"))
CHANNELS = (N_("branch"), N_("phone"), N_("web"), N_("app"), N_("email"), N_("chat"), N_("other"))
ROLES = (N_("admin"), N_("analyst"), N_("agent"), N_("viewer"))
SERVQUAL_DIMENSIONS = (
    N_("tangibles"),
    N_("reliability"),
    N_("responsiveness"),
    N_("assurance"),
    N_("empathy"),
)
RELATIONSHIP_QUALITY = (
    N_("trust (integrity)"),
    N_("benevolence"),
    N_("commitment"),
    N_("satisfaction"),
    N_("affective conflict"),
)
LOYALTY = (N_("repurchase"), N_("recommend"), N_("share of wallet"), N_("switching"))
IMPORTANCE_PERFORMANCE = (N_("importance"), N_("performance"), N_("gap"))
IPA_QUADRANTS = (
    N_("concentrate here"),
    N_("keep up the good work"),
    N_("low priority"),
    N_("possible overkill"),
)

# Messages raised as errors and shown on pages (translated by error.html).
ERROR_MESSAGES = (
    N_("Not found."),
    N_("Something went wrong on our side."),
    N_("The error was logged; try again."),
    N_("Wrong user name or password."),
    N_("Your role may not open this page."),
    N_("The form expired or did not come from this site (CSRF check failed)."),
    N_("Reload the page and try again."),
    N_("Invalid request."),
)

# Customer 360: timeline kinds, link methods, interaction outcomes and golden-record attributes.
TIMELINE_KINDS = (N_("interaction"), N_("transaction"), N_("response"), N_("case"), N_("survey"))
LINK_METHODS = (N_("deterministic"), N_("probabilistic"), N_("manual"), N_("singleton"))
OUTCOMES = (
    N_("resolved"),
    N_("abandoned"),
    N_("transferred"),
    N_("complaint"),
    N_("unresolved"),
    N_("callback"),
)
CUSTOMER_ATTRIBUTES = (
    N_("English name"),
    N_("Address"),
    N_("Language"),
    N_("Loyalty no"),
    N_("Merged from"),
    N_("Unmerged from"),
    N_("Split from"),
    N_("By"),
    N_("Reason"),
)
