"""Files a job reads (an uploaded roster), kept sealed beside the job until it has run.

A roster holds names, ID numbers and phones: the upload waits for its job as AES-256-GCM
ciphertext under a key derived (HKDF-SHA256) from ``SURVEY_CONTACT_KEY``, bound to the job's
id, readable by the owner only, and is removed once the job has imported it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"survey-app job upload v1"


def _key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret.encode())


def path(files_dir: Path, job_id: int) -> Path:
    return files_dir / f"job-{job_id}.upload"


def store(files_dir: Path, job_id: int, data: bytes, *, secret: str) -> Path:
    """Seal ``data`` for job ``job_id`` (mode 0600)."""
    files_dir.mkdir(parents=True, exist_ok=True)
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(_key(secret)).encrypt(nonce, data, f"job:{job_id}".encode())
    target = path(files_dir, job_id)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(sealed)
    return target


def load(files_dir: Path, job_id: int, *, secret: str) -> bytes:
    sealed = path(files_dir, job_id).read_bytes()
    return AESGCM(_key(secret)).decrypt(sealed[:12], sealed[12:], f"job:{job_id}".encode())


def remove(files_dir: Path, job_id: int) -> None:
    path(files_dir, job_id).unlink(missing_ok=True)
