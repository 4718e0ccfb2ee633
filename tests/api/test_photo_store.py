"""The local photo store: keys are our generated ids only, so no path leaves its directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.api.photos.models import is_photo_id, new_photo_id
from services.api.photos.store import InvalidKey, LocalStore


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "ph_../x",
        "ph_" + "0" * 32 + ".image/../../x",
        "/etc/passwd",
        "ph_" + "0" * 32,  # an id without its kind
        "ph_" + "A" * 32 + ".image",  # not our (lowercase hex) form
        "ph_" + "0" * 32 + ".exe",
        "photo.jpg",
        "",
    ],
)
def test_a_key_that_is_not_ours_is_refused(tmp_path: Path, key: str) -> None:
    store = LocalStore(tmp_path / "photos")
    with pytest.raises(InvalidKey):
        store.put(key, b"x", "image/jpeg")
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(InvalidKey):
        store.exists(key)
    assert not (tmp_path / "photos").exists()  # nothing was written, not even the directory


def test_put_get_round_trip(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "photos")
    key = f"{new_photo_id()}.image"
    assert store.get(key) is None and not store.exists(key)
    store.put(key, b"\xff\xd8\xffdata", "image/jpeg")
    assert store.exists(key) and store.get(key) == b"\xff\xd8\xffdata"
    store.put(key, b"replaced", "image/jpeg")
    assert store.get(key) == b"replaced"
    assert [p.name for p in (tmp_path / "photos").iterdir()] == [key]  # no temp files left


def test_photos_root_is_made_at_the_first_write(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "a" / "b")
    key = f"{new_photo_id()}.meta"
    assert not store.exists(key) and not (tmp_path / "a").exists()
    store.put(key, b"{}", "application/json")
    assert store.get(key) == b"{}"


def test_ids_are_random_and_in_the_one_form() -> None:
    ids = {new_photo_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_photo_id(i) for i in ids)
    assert not is_photo_id("ph_../x") and not is_photo_id("ph_" + "g" * 32)
