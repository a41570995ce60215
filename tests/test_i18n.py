"""Every user-facing string has a Chinese translation, and the catalog matches the sources."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from cxo.i18n import LOCALE_DIR, negotiate, normalise_locale, translator

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_catalog_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    translated = {m.id for m in _catalog("zh_CN") if m.id}
    missing = sorted(extracted - translated)
    assert not missing, f"run `make i18n` and translate: {missing[:5]}"


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    for message in _catalog("zh_CN"):
        if not message.id:
            continue
        assert message.string, f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string)), (
            message.id
        )


def test_translator_fills_placeholders_in_both_languages() -> None:
    assert translator("en")("entry %(id)s", id=7) == "entry 7"
    assert translator("zh_CN")("entry %(id)s", id=7) == "第 7 条记录"
    assert translator("zh_CN")("not in the catalog") == "not in the catalog"


def test_vocabulary_uses_the_product_terms() -> None:
    _ = translator("zh_CN")
    assert [_(s) for s in ("engage", "transact", "fulfil", "service")] == [
        "参与",
        "交易",
        "完成",
        "服务",
    ]
    assert _("concentrate here") == "重点改进"
    assert _("Voice of the customer") == "客户之声"


def test_language_negotiation() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert negotiate("en-GB,en;q=0.9") == "en"
    assert negotiate("fr-FR", default="zh_CN") == "zh_CN"
    assert negotiate(None) == "en"
    assert normalise_locale("zh-cn") == "zh_CN" and normalise_locale("de") is None
