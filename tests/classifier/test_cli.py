"""The ``cityops router`` command-line contract, run as a user runs it: a subprocess.

train, classify and evaluate are a stable contract (services/classifier/cli.py): the last
stdout line of ``train --cv`` and ``evaluate`` is JSON, ``classify`` answers one JSON line
per input line in order, and bad input ends with a one-line error and exit code 2.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cityops import taxonomy
from services.classifier.model.artifact import data_hash

ROOT = Path(__file__).resolve().parents[2]

# Three custom labels, eight short texts each: not taxonomy classes, not departments.
EXAMPLES = {
    "roads": [
        "路面有个大坑，车子开过去很颠",
        "马路上坑坑洼洼的，下雨全是水",
        "人行道地砖翘起来了，容易绊倒",
        "道路塌陷了一块，很危险",
        "这条路的沥青裂开了好长一条缝",
        "路中间有个坑，电瓶车摔了",
        "小区门口的路面破损严重",
        "路上的减速带坏了，螺丝都露出来",
    ],
    "noise": [
        "楼上每天半夜跺脚，吵得睡不着",
        "工地晚上十一点还在施工，噪音太大",
        "广场舞音响开得震天响",
        "隔壁装修电钻声从早到晚",
        "夜里有人在楼下大声喧哗",
        "酒吧的音乐声太吵了，影响休息",
        "凌晨货车卸货声音很大",
        "邻居家的狗整夜叫，吵死人",
    ],
    "trash": [
        "垃圾桶满了好几天没人清运",
        "路边堆了一大堆建筑垃圾",
        "小区垃圾房臭气熏天",
        "有人往河边乱倒生活垃圾",
        "垃圾满地都是，苍蝇很多",
        "楼道里堆着垃圾袋没人收",
        "菜场门口的垃圾没人扫",
        "绿化带里被扔了好多垃圾",
    ],
}
OUTSIDE_LINGANG = (39.9042, 116.4074)  # Beijing
INSIDE_LINGANG = (30.905, 121.935)  # 南汇新城镇


def router(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cityctl", "router", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def custom_rows() -> list[tuple[str, str]]:
    return [(text, label) for label, texts in EXAMPLES.items() for text in texts]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    """(the custom CSV, the model directory, the CV JSON) from one ``train --cv 3``."""
    work = tmp_path_factory.mktemp("router-cli")
    data, model_dir = write_csv(work / "custom.csv", custom_rows()), work / "model"
    done = router("train", "--data", str(data), "--out", str(model_dir), "--cv", "3")
    assert done.returncode == 0, done.stderr
    return data, model_dir, json.loads(done.stdout.strip().splitlines()[-1])


def test_train_prints_cross_validation_and_writes_the_model(
    trained: tuple[Path, Path, dict[str, object]],
) -> None:
    _, model_dir, cv = trained
    assert cv["k"] == 3
    folds = cv["folds"]
    # three topics that share almost no characters: every held-out fold is answered right
    assert folds == [{"accuracy": 1.0, "macro_f1": 1.0}] * 3
    assert cv["mean"] == {"accuracy": 1.0, "macro_f1": 1.0}
    assert (model_dir / "model.joblib").is_file()
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    texts, labels = zip(*custom_rows(), strict=True)
    assert manifest["data_sha256"] == data_hash(texts, labels)
    assert manifest["label_kind"] == "custom"
    assert manifest["labels"] == sorted(EXAMPLES)
    assert manifest["metrics"]["cv"]["mean"] == cv["mean"]


def test_classify_answers_each_line_in_order_with_the_custom_labels(
    trained: tuple[Path, Path, dict[str, object]],
) -> None:
    _, model_dir, _ = trained
    lat, lon = INSIDE_LINGANG
    lines = [
        json.dumps({"text": "路面有个大坑，很危险"}, ensure_ascii=False),
        "{not json",
        json.dumps({"text": "楼上半夜很吵", "lat": lat, "lon": lon}, ensure_ascii=False),
        json.dumps({"text": "垃圾桶满了没人清运"}, ensure_ascii=False),
    ]
    done = router("classify", "--model", str(model_dir), stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 4
    assert answers[1]["line"] == 2 and "not JSON" in answers[1]["error"]
    good = [answers[0], answers[2], answers[3]]
    assert [a["department"] for a in good] == ["roads", "noise", "trash"]
    threshold = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))["threshold"]
    for answer in good:
        assert answer["category"] == answer["department"]
        assert answer["abstained"] is (answer["confidence"] < threshold)
        assert len(answer["top"]) == 3  # three labels: all of them, most probable first
        ranked = [t["confidence"] for t in answer["top"]]
        assert ranked == sorted(ranked, reverse=True)
        assert sum(ranked) == pytest.approx(1.0, abs=2e-4)  # rounded to 4 places each
        assert {t["department"] for t in answer["top"]} <= set(EXAMPLES)
        assert answer["top"][0]["confidence"] == answer["confidence"]


def test_classify_with_the_shipped_model_answers_taxonomy_departments() -> None:
    tax = taxonomy.load()
    inside, outside = INSIDE_LINGANG, OUTSIDE_LINGANG
    lines = [
        {"text": "小区门口的垃圾桶满了好几天没人清运", "lat": inside[0], "lon": inside[1]},
        {"text": "小区门口的垃圾桶满了好几天没人清运", "lat": outside[0], "lon": outside[1]},
    ]
    stdin = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in lines)
    done = router("classify", stdin=stdin)
    assert done.returncode == 0, done.stderr
    inside_answer, outside_answer = (json.loads(line) for line in done.stdout.splitlines())
    current = (ROOT / "services/classifier/models/CURRENT").read_text(encoding="utf-8").strip()
    for answer in (inside_answer, outside_answer):  # the location never changes the class
        assert (answer["department"], answer["category"]) == ("sanitation_greening", "E0106")
        assert tax.leaf("E0106").department == "sanitation_greening"
        assert answer["model_version"] == current
    assert inside_answer["abstained"] is False
    assert (inside_answer["town"], inside_answer["assignee"]) == (
        "nanhui_xincheng",
        "sanitation_greening@nanhui_xincheng",
    )
    assert outside_answer["abstained"] is True
    assert (outside_answer["town"], outside_answer["grid"], outside_answer["assignee"]) == (
        None,
        None,
        None,
    )


def test_classify_adds_the_parts_of_a_message_that_names_several_problems() -> None:
    lat, lon = OUTSIDE_LINGANG
    lines = [
        {"text": "小区门口的垃圾桶满了好几天没人清运。另外路灯也不亮了，晚上很黑"},
        {"text": "小区门口的垃圾桶满了好几天没人清运", "lat": lat, "lon": lon},
        {"text": "反映两个问题：一是垃圾桶满了没人清运，二是路灯不亮", "lat": lat, "lon": lon},
    ]
    stdin = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in lines)
    done = router("classify", stdin=stdin)
    assert done.returncode == 0, done.stderr
    several, one, outside = (json.loads(line) for line in done.stdout.splitlines())
    assert "parts" not in one  # additive: a one-problem answer keeps the contract's keys only
    assert [p["text"] for p in several["parts"]] == [
        "小区门口的垃圾桶满了好几天没人清运",
        "另外路灯也不亮了，晚上很黑",
    ]
    assert [p["department"] for p in several["parts"]] == [
        "sanitation_greening",
        "roads_infrastructure",
    ]
    for part in several["parts"]:
        assert set(part) == {"text", "department", "category", "confidence", "abstained"}
    assert len(outside["parts"]) == 2
    assert all(p["abstained"] for p in outside["parts"])  # outside every town: a dispatcher


def classify(model_dir: Path, texts: list[str]) -> list[dict[str, Any]]:
    stdin = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    done = router("classify", "--model", str(model_dir), stdin=stdin)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_evaluate_scores_match_a_hand_count(
    trained: tuple[Path, Path, dict[str, object]], tmp_path: Path
) -> None:
    """The training texts, the first two of each label relabelled as the next label: the
    model answers what it learnt, so exactly 6 of 24 answers are wrong. Each label then has
    8 true and 8 predicted texts, 6 of them right: precision = recall = F1 = 6/8."""
    _, model_dir, _ = trained
    labels = sorted(EXAMPLES)
    rows = [
        (text, labels[(i + 1) % len(labels)] if n < 2 else label)
        for i, label in enumerate(labels)
        for n, text in enumerate(EXAMPLES[label])
    ]
    answers = classify(model_dir, [text for text, _ in rows])
    assert [a["department"] for a in answers] == [label for label in labels for _ in range(8)]
    auto = [a["department"] == label for a, (_, label) in zip(answers, rows, strict=True)]
    auto = [ok for ok, a in zip(auto, answers, strict=True) if not a["abstained"]]
    threshold = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))["threshold"]

    report_dir = tmp_path / "report"
    data = write_csv(tmp_path / "relabelled.csv", rows)
    done = router(
        "evaluate", "--model", str(model_dir), "--data", str(data), "--report-dir", str(report_dir)
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report_dir / "confusion_departments.png").stat().st_size > 0
    assert json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["examples"] == 24
    assert (report["examples"], report["level"]) == (24, "label")
    assert (report["accuracy"], report["macro_f1"]) == (0.75, 0.75)
    assert report["department"] == {"accuracy": 0.75, "macro_f1": 0.75}
    assert report["auto_dispatch"] == {
        "threshold": threshold,
        "precision": round(sum(auto) / len(auto), 4) if auto else 1.0,
        "coverage": round(len(auto) / len(rows), 4),
    }
    assert report["per_class"]["noise"]["support"] == 8
    assert report["per_class"]["noise"]["precision"] == 0.75


def test_evaluate_with_labels_the_model_does_not_know_fails_clearly(
    trained: tuple[Path, Path, dict[str, object]], tmp_path: Path
) -> None:
    _, model_dir, _ = trained
    data = write_csv(tmp_path / "other.csv", [("公园长椅坏了", "parks"), ("河水发黑", "rivers")])
    done = router("evaluate", "--model", str(model_dir), "--data", str(data))
    assert done.returncode == 2
    assert "labels the model does not know" in done.stderr
    assert "parks" in done.stderr
    assert "Traceback" not in done.stderr


def test_classify_with_a_directory_that_is_not_a_model_fails_clearly(tmp_path: Path) -> None:
    done = router("classify", "--model", str(tmp_path), stdin='{"text": "路灯不亮"}\n')
    assert done.returncode == 2
    assert "is not a model directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_taxonomy_prints_the_counts_docs_quote() -> None:
    done = router("taxonomy")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert (counts["classes"], counts["keywords"], counts["departments"]) == (170, 800, 23)
    assert {code: g["classes"] for code, g in counts["groups"].items()} == {
        "C": 49,
        "E": 55,
        "H": 66,
    }
    assert counts["groups"]["C"]["sub_groups"]["公用设施"] == 15
    assert len(counts["groups"]["H"]["sub_groups"]) == 19
    assert counts["priorities"] == {"urgent": 13, "high": 36, "normal": 84, "low": 37}
    assert list(counts["classes_per_department"].items())[:2] == [
        ("sanitation_greening", 19),
        ("urban_management", 15),
    ]


def test_corpus_counts_style_tags(tmp_path: Path) -> None:
    data = tmp_path / "styled.csv"
    data.write_text(
        "text,category,style\n井盖没了,C0101,short|typo\n路灯不亮了好几天,C0109,short\n"
        "垃圾没人收,E0106,\n",
        encoding="utf-8",
    )
    done = router("corpus", str(data))
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)[str(data)]
    assert (stats["texts"], stats["labels"]) == (3, 3)
    assert stats["styles"] == {"short": 2, "typo": 1}
    assert stats["length"]["min"] == 4 and stats["length"]["max"] == 8
