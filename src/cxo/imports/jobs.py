"""Uploads and background import jobs for the web app and the API.

An upload is streamed to ``CXO_HOME/uploads/<token>/`` (never held in memory), bounded by
``CXO_IMPORT_MAX_BYTES``, and belongs to the user who sent it. A job runs :func:`run_import` (or,
for a survey's wide response file, ``import_wide``) on a worker thread (one at a time: imports
write, and DuckDB has one writer), records progress in memory for polling, and removes the upload
when it ends. The import's row in the store says how it ended.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cxo.errors import CxoError, NotFound
from cxo.settings import Settings

ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".jsonl", ".ndjson")
UPLOAD_TTL_SECONDS = 24 * 3600
MAX_MAPPING_CHARS = 64_000
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1 << 20
log = logging.getLogger("cxo.imports")


class UploadRejected(CxoError):
    http_status = 400


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    file_name: str
    size: int
    owner: str


def _root(settings: Settings) -> Path:
    root = settings.ensure_home() / "uploads"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def safe_file_name(name: str | None) -> str:
    """The last path component, printable, at most 200 characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "upload"
    if len(base) > 200:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[:190] + dot + suffix[:9]) if dot else base[:200]
    return base


def save_upload(
    settings: Settings,
    stream: BinaryIO,
    file_name: str | None,
    owner: str,
    *,
    suffixes: tuple[str, ...] = ALLOWED_SUFFIXES,
) -> Upload:
    """Stream an uploaded file to disk; refuse types not in ``suffixes`` and files over the size
    limit."""
    name = safe_file_name(file_name)
    if not name.lower().endswith(suffixes):
        raise UploadRejected(
            f"cxo cannot import {name!r}: the file type is not one it reads.",
            hint=(
                "Upload CSV, TSV, Excel (.xlsx), Parquet or JSON Lines."
                if suffixes == ALLOWED_SUFFIXES
                else "Upload one of these file types: " + ", ".join(suffixes) + "."
            ),
        )
    cleanup_uploads(settings)
    token = uuid.uuid4().hex
    folder = _root(settings) / token
    folder.mkdir(mode=0o700)
    path = folder / "data"
    limit = settings.import_max_bytes
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(
                        f"The file is larger than the import limit of {limit:,} bytes.",
                        hint="Split the file, or raise CXO_IMPORT_MAX_BYTES.",
                    )
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadRejected("The uploaded file is empty.")
    # Keep the original extension on the data file so the readers can tell the format.
    final = folder / ("data" + Path(name).suffix.lower())
    path.rename(final)
    meta = {"file_name": name, "size": size, "owner": owner, "created": time.time()}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Upload(token=token, path=final, file_name=name, size=size, owner=owner)


def open_upload(settings: Settings, token: str, owner: str) -> Upload:
    """The upload ``token`` of ``owner``; another user's upload is not found."""
    if not _TOKEN.match(token or ""):
        raise NotFound("No such upload.")
    folder = _root(settings) / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NotFound("No such upload; it may have expired. Upload the file again.") from None
    if meta.get("owner") != owner:
        raise NotFound("No such upload.")
    data = next((p for p in folder.iterdir() if p.name.startswith("data")), None)
    if data is None:
        raise NotFound("No such upload.")
    return Upload(token, data, meta["file_name"], int(meta["size"]), owner)


def discard_upload(settings: Settings, token: str) -> None:
    if _TOKEN.match(token or ""):
        shutil.rmtree(_root(settings) / token, ignore_errors=True)


def cleanup_uploads(settings: Settings, now: float | None = None) -> int:
    """Remove uploads older than a day (abandoned previews); returns how many."""
    now = now or time.time()
    removed = 0
    for folder in _root(settings).iterdir():
        try:
            age = now - folder.stat().st_mtime
        except OSError:
            continue
        if folder.is_dir() and age > UPLOAD_TTL_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def parse_mapping_text(text: str | None) -> Any:
    """A mapping given as YAML text (form field or API part); None when blank."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_MAPPING_CHARS:
        raise UploadRejected("The mapping is too long.")
    from cxo.imports.mapping import loads_mapping

    return loads_mapping(text, origin="(form)")


class ImportJobs:
    """Runs imports one at a time on a worker thread and keeps their progress for polling."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxo-import")
        self._progress: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def start(
        self,
        upload: Upload,
        *,
        kind: str,
        source: str,
        actor: str,
        mapping: Any = None,
        encoding: str | None = None,
    ) -> int:
        from cxo.imports.service import create_import
        from cxo.store.engine import connect

        with connect(self.settings, write=True) as conn:
            import_id = create_import(
                conn,
                kind=kind,
                source=source,
                file_name=upload.file_name,
                actor=actor,
                mapping=mapping,
            )
        self._submit(
            import_id,
            upload,
            self._run,
            kind=kind,
            source=source,
            actor=actor,
            mapping=mapping,
            encoding=encoding,
        )
        return import_id

    def start_wide(
        self, upload: Upload, *, code: str, source: str, actor: str, mapping: Any = None
    ) -> int:
        """Queue a wide survey-response file (:func:`cxo.surveys.exchange_import.import_wide`)
        for survey ``code``; ``mapping`` is a parsed ``WideMapping`` or None."""
        from cxo.imports.models import imports
        from cxo.imports.service import create_import
        from cxo.store.engine import connect
        from cxo.surveys.exchange_import import stored_mapping

        with connect(self.settings, write=True) as conn:
            import_id = create_import(
                conn, kind="responses", source=source, file_name=upload.file_name, actor=actor
            )
            # Which survey it is for, from the start (the status page checks it).
            conn.execute(
                imports.update()
                .where(imports.c.id == import_id)
                .values(mapping=stored_mapping(code, mapping))
            )
        self._submit(
            import_id,
            upload,
            self._run_wide,
            code=code,
            source=source,
            actor=actor,
            mapping=mapping,
        )
        return import_id

    def _submit(self, import_id: int, upload: Upload, work: Callable[..., Any], **kw: Any) -> None:
        with self._lock:
            self._progress[import_id] = (0, upload.size)
        self._pool.submit(self._guarded, import_id, upload, work, **kw)

    def _run(self, import_id: int, upload: Upload, **kw: Any) -> None:
        from cxo.imports.service import run_import

        def progress(done: int, total: int) -> None:
            with self._lock:
                self._progress[import_id] = (done, total)

        run_import(
            self.settings,
            path=upload.path,
            file_name=upload.file_name,
            import_id=import_id,
            progress=progress,
            **kw,
        )

    def _run_wide(self, import_id: int, upload: Upload, **kw: Any) -> None:
        from cxo.surveys.exchange_import import import_wide

        import_wide(
            self.settings, path=upload.path, file_name=upload.file_name, import_id=import_id, **kw
        )

    def _guarded(self, import_id: int, upload: Upload, work: Callable[..., Any], **kw: Any) -> None:
        try:
            work(import_id, upload, **kw)
        except CxoError:
            pass  # the runner recorded the failure on the import's row
        except Exception:  # the runner recorded it too; keep the worker alive, keep the trace
            log.exception("import %s failed", import_id)
        finally:
            discard_upload(self.settings, upload.token)
            with self._lock:
                self._progress.pop(import_id, None)

    def progress(self, import_id: int) -> tuple[int, int] | None:
        with self._lock:
            return self._progress.get(import_id)

    def wait_idle(self, timeout: float = 60) -> None:
        """Block until every submitted job has ended (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._progress:
                    return
            time.sleep(0.05)
