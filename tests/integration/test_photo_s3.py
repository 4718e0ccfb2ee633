"""The S3 photo store against a real S3 wire protocol: a moto server on a free TCP port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cityops import standins
from cityops.errors import DependencyUnavailable
from services.api.photos.models import new_photo_id
from services.api.photos.store import InvalidKey, S3Store

moto_server = pytest.importorskip("moto.server", reason="pip install 'moto[server]'")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = standins.free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_put_get_exists_through_s3(endpoint: str) -> None:
    store = S3Store(endpoint, f"photos-{new_photo_id()[3:15]}", "test-key", "test-secret")
    key = f"{new_photo_id()}.image"
    assert store.get(key) is None and not store.exists(key)  # before the bucket exists
    store.put(key, b"\x89PNG\r\n\x1a\nbytes", "image/png")  # makes the bucket
    assert store.exists(key) and store.get(key) == b"\x89PNG\r\n\x1a\nbytes"
    head = store.client.head_object(Bucket=store.bucket, Key=key)
    assert head["ContentType"] == "image/png"
    with pytest.raises(InvalidKey):
        store.get("../../etc/passwd")


def test_a_store_that_does_not_answer_is_unavailable() -> None:
    store = S3Store(f"http://127.0.0.1:{standins.free_port()}", "photos", "k", "s")
    with pytest.raises(DependencyUnavailable):
        store.put(f"{new_photo_id()}.meta", b"{}", "application/json")
