"""Why an import cannot run, as one translatable line and a hint.

The message and hint are gettext templates with ``%(name)s`` placeholders, marked with ``N_`` where
they are raised so ``make i18n`` extracts them. ``.message`` is the English text (logs, the
``imports.message`` column); a user interface shows :meth:`ImportFileError.localized` instead.
"""

from __future__ import annotations

from typing import Any

from cxo.errors import CxoError
from cxo.i18n import Translator


class ImportFileError(CxoError):
    """The file, its encoding or the mapping is unusable; nothing was written."""

    def __init__(self, message: str, *, hint: str | None = None, **params: Any) -> None:
        self.template = message
        self.hint_template = hint
        self.params = params
        super().__init__(_fill(message, params), hint=_fill(hint, params) if hint else None)

    def localized(self, _: Translator) -> CxoError:
        """The same error with message and hint in the language of ``_``."""
        return CxoError(
            _(self.template, **self.params) if self.params else _(self.template),
            hint=(_(self.hint_template, **self.params) if self.params else _(self.hint_template))
            if self.hint_template
            else None,
        )


def _fill(template: str, params: dict[str, Any]) -> str:
    return template % params if params else template
