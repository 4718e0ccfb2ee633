"""Retraining: promotion needs the written held-out split and the real report halves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from services.classifier.model.artifact import load
from services.classifier.real_text import split_of
from services.classifier.retrain import not_worse_real, retrain


def _real(accuracy: float, misrouted: float) -> dict[str, object]:
    return {"topic_accuracy": accuracy, "auto_dispatch": {"misrouted": misrouted}}


def test_not_worse_real_needs_accuracy_and_misrouted_share() -> None:
    current = {"set": _real(0.6, 0.17)}
    assert not_worse_real({"set": _real(0.6, 0.01)}, current)
    assert not not_worse_real({"set": _real(0.59, 0.01)}, current)
    assert not not_worse_real({"set": _real(0.7, 0.18)}, current)
    assert not_worse_real({}, {})  # nothing real to compare


WATER = ["小区门口自来水井盖松了", "给水井盖裂开一条缝", "水表井盖被车压坏", "路边上水井盖不见了"]
SIGNALS = ["路口红绿灯不亮了", "信号灯一直闪黄灯", "红灯时间太长了", "十字路口红绿灯坏了"]
DUST = ["工地扬尘很大没盖网", "施工灰尘飘进家里", "工地没有洒水降尘", "渣土工地灰尘漫天"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_retrain_calibrates_on_real_messages_and_logs_both_measures(tmp_path: Path) -> None:
    base, held, real, models = (tmp_path / n for n in ("base.csv", "held.csv", "real", "m"))
    classes = {"C0101": WATER, "C0205": SIGNALS, "E0303": DUST}
    rows = [[t, code] for code, texts in classes.items() for t in texts]
    _write(base, ["text", "category"], rows[::2] + rows[1::2])
    _write(held, ["text", "category"], [[t + "，请处理", c] for t, c in rows])
    real.mkdir()
    topics = {"C0101": "城建", "C0205": "交通", "E0303": "环保"}
    letters = [
        [
            str(100 + i),
            f"尊敬的领导您好：我是附近居民，{t}，已经好几天了，希望尽快解决。",
            topics[c],
        ]
        for i, (t, c) in enumerate(rows * 2)
    ]
    _write(real / "letters.csv", ["id", "text", "label"], letters)
    models.mkdir()
    entry = retrain([base], [], [held], models, 0, lambda _: None, real_dir=real)
    assert entry["promoted"] and entry["compared_with"] is None
    assert set(entry["real_report"]) == {"letters:report"}
    _, manifest = load(models / entry["version"])
    halves = [split_of(str(key)) for key in range(100, 124)]
    assert manifest.calibration["real_messages"] == halves.count("calibration")
    assert manifest.threshold >= manifest.familiarity_floor
    logged = [json.loads(line) for line in (models / "versions.jsonl").read_text().splitlines()]
    assert logged[-1]["real_report"] == entry["real_report"]
