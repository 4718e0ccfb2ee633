"""Where photo bytes live: a small blob-store interface, a directory, or S3 (MinIO).

Keys are ``<photo_id>.<kind>`` (``image``, ``thumb``, ``meta``) and nothing else: a key that
is not in that form is refused with :class:`InvalidKey` before any path or request is made,
so a key can never climb out of the directory or name another object.

The interface is synchronous (files and boto3 block); :class:`PhotoService` runs it in a
worker thread.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from cityops.errors import DependencyUnavailable
from services.api.photos.models import PHOTO_ID
from services.api.settings import ApiSettings

KINDS = ("image", "thumb", "meta")
KEY = re.compile(rf"{PHOTO_ID.pattern}\.(?:{'|'.join(KINDS)})")
UNAVAILABLE = "照片存储暂不可用"


class InvalidKey(ValueError):
    """A key that is not one of ours (``ph_<32 hex>.<kind>``)."""


def checked(key: str) -> str:
    if KEY.fullmatch(key) is None:
        raise InvalidKey(f"不是有效的照片存储键：{key!r}")
    return key


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores ``data`` under ``key``, replacing what was there."""

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or ``None`` when there are none."""

    def exists(self, key: str) -> bool: ...


class LocalStore:
    """One file per key in a directory (``settings.photo_dir``)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)  # made at the first write

    def _path(self, key: str) -> Path:
        return self.directory / checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        # written whole then renamed: a reader never sees half a photo
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store:
    """A bucket on an S3-compatible server (MinIO in compose), made at the first write.

    Nothing is sent at construction, so the API starts while the store is still down;
    a store that does not answer is :class:`DependencyUnavailable` (503).
    """

    def __init__(
        self, endpoint: str, bucket: str, access_key: str | None, secret_key: str | None
    ) -> None:
        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name="us-east-1",  # MinIO's default; S3 needs one to sign
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 2},
            ),
        )
        self._bucket_ready = False

    def put(self, key: str, data: bytes, content_type: str) -> None:
        key = checked(key)
        with _unavailable_on_failure():
            if not self._bucket_ready:
                self._ensure_bucket()
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        key = checked(key)
        with _unavailable_on_failure():
            try:
                found = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
            data: bytes = found["Body"].read()
            return data

    def exists(self, key: str) -> bool:
        key = checked(key)
        with _unavailable_on_failure():
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return False
                raise
            return True

    def _ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not _missing(exc):
                raise
            self.client.create_bucket(Bucket=self.bucket)
        self._bucket_ready = True


def _missing(exc: ClientError) -> bool:
    """An S3 "no such key/bucket" answer (a botocore ``ClientError`` with a 404 code)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


@contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable(UNAVAILABLE) from exc


def make_store(settings: ApiSettings) -> BlobStore:
    """S3 when ``photo_s3_endpoint`` is set, else the local directory ``photo_dir``."""
    if settings.photo_s3_endpoint:
        secret = settings.photo_s3_secret_key
        return S3Store(
            settings.photo_s3_endpoint,
            settings.photo_s3_bucket,
            settings.photo_s3_access_key,
            secret.get_secret_value() if secret is not None else None,
        )
    return LocalStore(settings.photo_dir)
