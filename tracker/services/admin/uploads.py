"""Uploaded import files kept between the preview and the commit, so the commit writes exactly
the file that was previewed. Kept under ``instance/imports/`` by a random id, for a day."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_AGE_SECONDS = 24 * 3600
ID = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class Upload:
    id: str
    kind: str
    filename: str
    sha256: str
    actor_id: int
    data: bytes


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(kind: str, filename: str, data: bytes, actor_id: int) -> Upload:
    _forget_old()
    upload_id = secrets.token_urlsafe(24)
    digest = hashlib.sha256(data).hexdigest()
    folder = _folder()
    (folder / f"{upload_id}.bin").write_bytes(data)
    meta = {"kind": kind, "filename": filename, "sha256": digest, "actor_id": actor_id}
    (folder / f"{upload_id}.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    return Upload(upload_id, kind, filename, digest, actor_id, data)


def load(upload_id: str, actor_id: int) -> Upload | None:
    """The upload, if it exists, is intact and was made by this actor."""
    if not ID.fullmatch(upload_id or ""):
        return None
    folder = _folder()
    meta_path, data_path = folder / f"{upload_id}.json", folder / f"{upload_id}.bin"
    if not meta_path.exists() or not data_path.exists():
        return None
    meta = json.loads(meta_path.read_text("utf-8"))
    data = data_path.read_bytes()
    if meta["actor_id"] != actor_id or hashlib.sha256(data).hexdigest() != meta["sha256"]:
        return None
    return Upload(upload_id, meta["kind"], meta["filename"], meta["sha256"], actor_id, data)


def discard(upload_id: str) -> None:
    if not ID.fullmatch(upload_id or ""):
        return
    for suffix in (".bin", ".json"):
        (_folder() / f"{upload_id}{suffix}").unlink(missing_ok=True)


def _forget_old() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().glob("*.*"):
        if path.suffix in (".bin", ".json") and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
