"""The router on real citizen messages: zero-shot, and trained on a city's own history.

For every CSV (``id,text,label``) in the real folder (``--real``, default
``CITYOPS_ROUTER_REAL_DEV`` or ``../shared/data/real_dev``):

(a) **zero-shot**: the model (``--model``, default the shipped one) routes every message;
    its department is mapped onto the set's labels by ``data/router/real/topics.yaml``
    (fixed before any prediction was seen). Topic-level accuracy, and the precision and
    coverage of auto-dispatch at the model's own threshold, on the whole set and on each of
    the two halves of :mod:`services.classifier.real_text` (the calibration half may have
    chosen the model's threshold; the report half never did). A precision–coverage curve
    and a reliability diagram (PNG) per set.
(b) **bring your own history**: ``cityops router train --cv K`` (the router's
    ``training.cross_validate``) against the plain baseline of ``router_vs_baseline.py``
    (char 1–2-gram TF-IDF + balanced LinearSVC) on the same folds: macro-F1 per fold.
(c) **ceiling**: that baseline trained on the set itself, out of fold, precision at 10, 20,
    40 and 60% coverage by its margin: how far the set's own labels let dispatch go.
(d) **profiles**: length, salutation and several-issues shares of the written splits, the
    written letters and the set (``metrics.text_profile``).
(e) **conformal sets** (``--conformal``): auto-dispatch only when the split-conformal
    department set (``model/conformal.py``) has one department, alone and together with
    the model's threshold; the quantile from the written training split out of fold, the
    calibration half, or both; figures on the report half (``real_text.conformal_measure``).

``--with-words`` adds a BYO row where the char+word (jieba) SVMs join the candidates.

A set whose labels the topic map does not name gets (b)–(d) only.

The folder is not part of the repository; without it the script says so and exits 0.

    .venv/bin/python bench/router_real.py
    .venv/bin/python bench/router_real.py --skip-cv        # zero-shot only (seconds)
    .venv/bin/python bench/router_real.py --skip-cv --conformal    # and conformal sets

Results: ``bench/results/router_real.json`` and ``.md``, PNGs beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the checkout

import numpy as np  # noqa: E402

from bench.router_vs_baseline import baseline_pipeline, fit_baseline, fit_router  # noqa: E402
from cityops import taxonomy  # noqa: E402
from services.classifier.model.families import CANDIDATES, WORD_CANDIDATES  # noqa: E402
from services.classifier.model.metrics import text_profile  # noqa: E402
from services.classifier.model.model import RouterModel  # noqa: E402
from services.classifier.model.predictor import Predictor  # noqa: E402
from services.classifier.model.training import (  # noqa: E402
    Dataset,
    cross_validate,
    folds,
    out_of_fold,
    read_csv,
)
from services.classifier.real_text import (  # noqa: E402
    RealSet,
    ZeroShot,
    conformal_measure,
    curve,
    mapped,
    real_dir,
    real_sets,
    reliability,
    topic_map,
    zero_shot,
)

METRICS = ("accuracy", "macro_f1")
COVERAGES = (0.1, 0.2, 0.4, 0.6)


def _quiet(_: str) -> None:
    pass


def measure_zero_shot(predictor: Predictor, real: RealSet, topics: dict[str, str]) -> ZeroShot:
    return zero_shot(predictor.decide(real.data.texts), real.data.labels, topics)


def zero_shot_rows(predictor: Predictor, real: RealSet, topics: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("all", "calibration", "report"):
        subset = real if part == "all" else real.half(part)
        outcome = measure_zero_shot(predictor, subset, topics)
        out[part] = {
            "rows": len(subset.data),
            "topic_accuracy": round(outcome.accuracy(), 4),
            "auto_dispatch": outcome.at(predictor.threshold),
        }
        if part == "all":
            out["curve"] = curve(outcome)
            out["reliability"] = reliability(outcome)
    return out


def byo_history(real: RealSet, k: int, seed: int, words: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    router = cross_validate(real.data, k, seed, _quiet, fit=fit_router(seed))
    seconds = round(time.perf_counter() - started, 1)
    baseline = cross_validate(real.data, k, seed, _quiet, fit=fit_baseline)
    out = {
        "k": k,
        "router": router,
        "baseline": baseline,
        **_gain(router, baseline),
        "router_seconds": seconds,
    }
    if words:
        started = time.perf_counter()
        with_words = cross_validate(real.data, k, seed, _quiet, fit=_fit_with_words(seed))
        out["router_with_words"] = {**with_words, **_gain(with_words, baseline)}
        out["router_with_words"]["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _gain(router: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    per_fold = [
        round(r["macro_f1"] - b["macro_f1"], 4)
        for r, b in zip(router["folds"], baseline["folds"], strict=True)
    ]
    mean = round(router["mean"]["macro_f1"] - baseline["mean"]["macro_f1"], 4)
    return {"macro_f1_gain_per_fold": per_fold, "macro_f1_gain": mean}


def _fit_with_words(seed: int) -> Any:
    candidates = [*CANDIDATES, *WORD_CANDIDATES]
    return lambda d: RouterModel.fit(d.texts, d.labels, seed, candidates=candidates).predict


def written_out_of_fold(
    predictor: Predictor, k: int, seed: int
) -> tuple[list[Any], list[float], list[str]]:
    """The written training split ranked by models that never saw each text (as the
    threshold was calibrated), with its familiarity and true departments."""
    data = read_csv(sorted((ROOT / "data" / "router" / "train").glob("*.csv")), "text", "category")
    ranked, familiar = out_of_fold(Dataset(data.texts, data.labels), k, seed, _quiet)
    tax = taxonomy.load()
    return ranked, familiar, [tax.leaf(c).department for c in data.labels]


def ceiling(real: RealSet, k: int, seed: int) -> dict[str, Any]:
    """The plain baseline trained on the set itself (k-fold, out of fold), ranked by its
    margin: what a model that has seen this platform's labels reaches. Not zero-shot; a
    reference for how far the labels allow auto-dispatch to go."""
    texts, labels = np.array(real.data.texts, dtype=object), np.array(real.data.labels)
    margin, right = np.zeros(len(labels)), np.zeros(len(labels), dtype=bool)
    for train_idx, test_idx in folds(real.data, k, seed):
        model = baseline_pipeline().fit(texts[train_idx], labels[train_idx])
        decision = model.decision_function(texts[test_idx])
        top = np.sort(decision, axis=1)
        margin[test_idx] = top[:, -1] - top[:, -2]
        right[test_idx] = model.classes_[decision.argmax(axis=1)] == labels[test_idx]
    order = np.argsort(-margin, kind="stable")
    at = {
        f"{c:.1f}": round(float(right[order[: int(c * len(order))]].mean()), 4) for c in COVERAGES
    }
    return {"accuracy": round(float(right.mean()), 4), "precision_at_coverage": at}


def profiles(real: RealSet) -> dict[str, Any]:
    written = {
        split: read_csv(
            sorted((ROOT / "data" / "router" / split).glob("*.csv")), "text", "category"
        )
        for split in ("train", "test", "letters")
    }
    return {
        **{f"written_{split}": text_profile(data.texts) for split, data in written.items()},
        real.name: text_profile(real.data.texts),
    }


def plot(name: str, result: dict[str, Any], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    points = result["curve"]
    left.plot([p["coverage"] for p in points], [p["precision"] for p in points], marker=".")
    shipped = result["all"]["auto_dispatch"]
    left.scatter([shipped["coverage"]], [shipped["precision"]], color="red", zorder=3)
    left.annotate(f"threshold {shipped['threshold']}", (shipped["coverage"], shipped["precision"]))
    left.axhline(0.9, color="grey", linestyle="--", linewidth=0.8)
    left.axvline(0.4, color="grey", linestyle="--", linewidth=0.8)
    left.set(xlabel="coverage (share auto-dispatched)", ylabel="topic-level precision")
    left.set(title=f"{name}: precision against coverage", xlim=(0, 1), ylim=(0, 1.02))
    bins = result["reliability"]
    right.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    right.bar(
        [(b["low"] + b["high"]) / 2 for b in bins],
        [b["accuracy"] for b in bins],
        width=0.09,
        alpha=0.6,
        label="share right (topic level)",
    )
    right.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o")
    for b in bins:
        right.annotate(str(b["count"]), ((b["low"] + b["high"]) / 2, b["accuracy"] + 0.02))
    right.set(xlabel="router confidence", ylabel="share right", xlim=(0, 1), ylim=(0, 1.05))
    right.set(title=f"{name}: reliability (counts above bars)")
    fig.tight_layout()
    path = out_dir / f"router_real_{name}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [str(path)]


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# router_real ({result['model_version']}, threshold {result['threshold']})",
        "",
        "| set | part | rows | topic acc | auto precision | auto coverage | misrouted |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["sets"].items():
        for part in ("all", "calibration", "report") if "zero_shot" in r else ():
            z = r["zero_shot"][part]
            a = z["auto_dispatch"]
            lines.append(
                f"| {name} | {part} | {z['rows']} | {z['topic_accuracy']:.4f} | "
                f"{a['precision']:.4f} | {a['coverage']:.4f} | {a['misrouted']:.4f} |"
            )
    for name, r in result["sets"].items():
        lines += _byo_lines(name, r.get("byo"))
    lines += _conformal_lines(result)
    for name, r in result["sets"].items():
        if "ceiling" in r:
            c = r["ceiling"]
            at = ", ".join(f"{k}: {v:.4f}" for k, v in c["precision_at_coverage"].items())
            lines.append(
                f"\n{name}, baseline trained on the set itself (out of fold): accuracy "
                f"{c['accuracy']:.4f}; precision at coverage {at}"
            )
        lines += ["", "| texts | rows | length p10 / median / p90 | greeting | several issues |"]
        lines.append("|---|---|---|---|---|")
        for who, p in r["profiles"].items():
            length = p["length"]
            lines.append(
                f"| {who} | {p['texts']} | {length['p10']} / {length['median']} / "
                f"{length['p90']} | {p['greeting_share']:.3f} | {p['several_issues_share']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def _byo_lines(name: str, byo: dict[str, Any] | None) -> list[str]:
    """BYO macro-F1 per fold: router, baseline, gain (and the variant with words)."""
    if not byo:
        return []
    k = byo["k"]
    lines = [
        "",
        f"| {name}: BYO --cv {k} macro-F1 | "
        + " | ".join(f"fold {i}" for i in range(1, k + 1))
        + " | mean |",
        "|---" * (k + 2) + "|",
    ]
    rows = [("router", byo["router"]), ("baseline", byo["baseline"])]
    gains = [("gain", byo)]
    if "router_with_words" in byo:
        rows.append(("router with words", byo["router_with_words"]))
        gains.append(("gain with words", byo["router_with_words"]))
    for label, cv in rows:
        cells = [f"{f['macro_f1']:.4f}" for f in cv["folds"]] + [f"{cv['mean']['macro_f1']:.4f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for label, g in gains:
        cells = [f"{x:+.4f}" for x in g["macro_f1_gain_per_fold"]] + [f"{g['macro_f1_gain']:+.4f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _conformal_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for name, r in result["sets"].items():
        if "conformal" not in r:
            continue
        lines += [
            "",
            f"{name}, report half: conformal department sets",
            "",
            "| alpha | scores from | qhat | set covers field | mean set size | singleton: "
            "precision / coverage / misrouted | singleton and threshold |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in r["conformal"]:
            a, b = c["singleton"], c["singleton_and_threshold"]
            lines.append(
                f"| {c['alpha']} | {c['scores_from']} ({c['calibration_scores']}) | {c['qhat']} "
                f"| {c['set_covers_topic']} | {c['mean_set_size']} | {a['precision']:.4f} / "
                f"{a['coverage']:.4f} / {a['misrouted']:.4f} | {b['precision']:.4f} / "
                f"{b['coverage']:.4f} / {b['misrouted']:.4f} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, help="folder of real CSVs (id,text,label)")
    parser.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cv", action="store_true", help="zero-shot only")
    parser.add_argument("--with-words", action="store_true", help="BYO with char+word too")
    parser.add_argument("--conformal", action="store_true", help="conformal department sets")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    sets = real_sets(args.real)
    if not sets:
        print(f"router_real: no real sets in {args.real or real_dir()}; nothing to measure")
        return 0
    predictor = Predictor.load(args.model, taxonomy.load())
    topics = topic_map()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "model_version": predictor.version,
        "threshold": predictor.threshold,
        "topics_file": "data/router/real/topics.yaml",
        "sets": {},
    }
    for real in sets:
        entry: dict[str, Any] = {"profiles": profiles(real)}
        if mapped([real], topics):
            entry["zero_shot"] = zero_shot_rows(predictor, real, topics)
            entry["plots"] = plot(real.name, entry["zero_shot"], args.out_dir)
            if args.conformal:
                written = written_out_of_fold(predictor, args.folds, args.seed)
                entry["conformal"] = conformal_measure(predictor, real, topics, written)
        else:
            print(f"router_real: {real.name}: labels not in the topic map; zero-shot skipped")
        if not args.skip_cv:
            entry["byo"] = byo_history(real, args.folds, args.seed, args.with_words)
            entry["ceiling"] = ceiling(real, args.folds, args.seed)
        result["sets"][real.name] = entry
    (args.out_dir / "router_real.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    text = markdown(result)
    (args.out_dir / "router_real.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
