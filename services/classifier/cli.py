"""``cityops router``: train, classify, evaluate, retrain, corpus statistics.

The contract of ``train``, ``classify`` and ``evaluate`` is stable (README, Router CLI):
operators and external evaluation depend on it.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cityops import jurisdiction, taxonomy


def _progress(message: str) -> None:
    print(f"[router] {message}", file=sys.stderr, flush=True)


Command = Callable[[argparse.Namespace], int]


def _user_errors(command: Command) -> Command:
    """Bad data, a bad model directory or a missing file: one line on stderr, exit 2."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from services.classifier.model.artifact import ArtifactError
        from services.classifier.model.training import DataError

        try:
            return command(args)
        except (DataError, ArtifactError, FileNotFoundError) as exc:
            print(f"cityops router {args.router_command}: error: {exc}", file=sys.stderr)
            return 2

    return run


def _paths(value: str) -> list[Path]:
    path = Path(value)
    if path.is_dir():
        return sorted(path.glob("*.csv"))
    return [path]


def cmd_train(args: argparse.Namespace) -> int:
    from services.classifier.model import artifact
    from services.classifier.model.training import cross_validate, read_csv, train

    data = read_csv(_paths(args.data), args.text_col, args.label_col)
    _progress(f"{len(data)} examples, {len(set(data.labels))} labels")
    version = args.version or artifact.version_name(
        artifact.data_hash(data.texts, data.labels), taxonomy.load().version
    )
    model, manifest = train(data, taxonomy.load(), version, args.seed, _progress)
    cv = cross_validate(data, args.cv, args.seed, _progress) if args.cv else None
    if cv:
        manifest.metrics["cv"] = cv
    artifact.save(Path(args.out), model.pipeline, manifest)
    _progress(f"saved {manifest.version} to {args.out}")
    if cv:
        print(json.dumps({"k": args.cv, **cv}, ensure_ascii=False))
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from services.classifier.model.predictor import Predictor

    predictor = Predictor.load(Path(args.model) if args.model else None, taxonomy.load())
    batch: list[tuple[int, dict[str, Any] | str]] = []
    for number, line in enumerate(sys.stdin, start=1):
        if line.strip():
            batch.append((number, _parse(line)))
        if len(batch) >= 256:
            _answer(predictor, batch, sys.stdout)
            batch = []
    _answer(predictor, batch, sys.stdout)
    return 0


def _parse(line: str) -> dict[str, Any] | str:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc.msg}"
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"]:
        return 'expected an object with a non-empty "text"'
    return item


def _answer(predictor: Any, batch: list[tuple[int, dict[str, Any] | str]], out: TextIO) -> None:
    from services.classifier.issues import decide_parts

    good = [(n, item) for n, item in batch if isinstance(item, dict)]
    texts = [i["text"] for _, i in good]
    decisions = iter(predictor.decide(texts, [i.get("category_hint") for _, i in good]))
    parts = iter(decide_parts(predictor.decide, texts))
    places = jurisdiction.load() if predictor.manifest.label_kind == "taxonomy" else None
    for number, item in batch:
        if isinstance(item, str):
            out.write(json.dumps({"error": item, "line": number}, ensure_ascii=False) + "\n")
            continue
        d, split = next(decisions), next(parts)
        answer: dict[str, Any] = {
            "department": d.department,
            "category": d.category,
            "confidence": round(d.confidence, 4),
            "top": [
                {"department": dep, "category": c, "confidence": round(p, 4)} for c, dep, p in d.top
            ],
            "abstained": d.confidence < predictor.threshold,
            "model_version": predictor.version,
        }
        if places is not None and "lat" in item and "lon" in item:
            where = places.locate(float(item["lat"]), float(item["lon"]))
            answer["town"] = where.town.code if where else None
            answer["grid"] = where.grid.code if where and where.grid else None
            answer["assignee"] = f"{d.department}@{where.town.code}" if where else None
            if where is None:
                answer["abstained"] = True
                answer["note"] = "location outside every Lingang town"
        if split:  # only for a message that names several problems (issues.split)
            outside = answer.get("note") is not None
            answer["parts"] = [
                {
                    "text": text,
                    "department": p.department,
                    "category": p.category,
                    "confidence": round(p.confidence, 4),
                    "abstained": p.confidence < predictor.threshold or outside,
                }
                for text, p in split
            ]
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()


def cmd_evaluate(args: argparse.Namespace) -> int:
    from services.classifier.evaluation import evaluate
    from services.classifier.model.predictor import Predictor
    from services.classifier.model.training import read_csv

    predictor = Predictor.load(Path(args.model) if args.model else None, taxonomy.load())
    data = read_csv(_paths(args.data), args.text_col, args.label_col)
    _progress(f"evaluating {predictor.version} on {len(data)} examples")
    report = evaluate(predictor, data, Path(args.report_dir), _progress)
    print(report.pop("text_report"))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from services.classifier.retrain import retrain

    result = retrain(
        base=_paths(args.base),
        corrections=[Path(p) for p in args.corrections],
        holdout=_paths(args.holdout),
        models_dir=Path(args.models_dir),
        seed=args.seed,
        progress=_progress,
        real_dir=Path(args.real) if args.real else None,
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_corpus(args: argparse.Namespace) -> int:
    from services.classifier.model.metrics import diversity, text_profile
    from services.classifier.model.training import read_csv

    out = {}
    for name in args.data:
        data = read_csv(_paths(name), args.text_col, args.label_col)
        profile = {k: v for k, v in text_profile(data.texts).items() if k.endswith("_share")}
        out[name] = {**diversity(data.texts), "labels": len(set(data.labels)), **profile}
        styles = _tag_counts(_paths(name), args.style_col)
        if styles:
            out[name]["styles"] = styles
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _tag_counts(paths: list[Path], column: str) -> dict[str, int]:
    """Texts per tag of a ``|``-separated tag column, most frequent first; {} without it."""
    import csv
    from collections import Counter

    counts: Counter[str] = Counter()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                counts.update(tag for tag in (row.get(column) or "").split("|") if tag)
    return dict(counts.most_common())


def cmd_taxonomy(args: argparse.Namespace) -> int:
    from collections import Counter

    tax = taxonomy.load()
    names = {node.code: node.name for node in tax.nodes}
    groups: dict[str, Any] = {}
    for leaf in tax.leaves:
        group = groups.setdefault(leaf.code[0], {"name": names[leaf.code[0]], "classes": 0})
        group["classes"] += 1
        parent = names[leaf.parent]
        group.setdefault("sub_groups", Counter())[parent] += 1
    counts = {
        "version": tax.version,
        "classes": len(tax.leaves),
        "keywords": sum(len(leaf.keywords) for leaf in tax.leaves),
        "departments": len(tax.departments),
        "groups": groups,
        "classes_per_department": dict(
            Counter(leaf.department for leaf in tax.leaves).most_common()
        ),
        "priorities": Counter(leaf.priority for leaf in tax.leaves),
    }
    print(json.dumps(counts, ensure_ascii=False, indent=1))
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    from cityops.contracts import CaseEvent
    from cityops.kafka import read_to_end
    from cityops.settings import CommonSettings
    from services.classifier.corrections import export

    settings = CommonSettings()
    events = read_to_end(settings, settings.topics.cases_events, CaseEvent, _progress)
    count = export(events, Path(args.out))
    print(f"{count} corrections written to {args.out}")
    return 0


def register(sub: Any) -> None:
    router = sub.add_parser(
        "router",
        help="train, run and evaluate the incident router",
        description="The router: text (+ location) → category, department.",
    )
    rsub = router.add_subparsers(dest="router_command", required=True, metavar="ACTION")

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", required=True, help="CSV file, or a folder of CSV files")
        p.add_argument("--text-col", default="text", help="text column (default: text)")
        p.add_argument("--label-col", default="label", help="label column (default: label)")

    train = rsub.add_parser(
        "train",
        help="train a model version on a labelled CSV",
        description="Train on any labelled CSV. With --cv K, also run "
        "K-fold cross-validation and print its JSON as the last line.",
    )
    data_args(train)
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--cv", type=int, default=0, metavar="K", help="K-fold cross-validation")
    train.add_argument("--version", help="version name (default: from the data hash)")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=_user_errors(cmd_train))

    classify = rsub.add_parser(
        "classify",
        help="JSON lines in on stdin, answers out",
        description='Read {"text": ..., "lat"?, "lon"?, '
        '"category_hint"?} per line; write one JSON answer per line.',
    )
    classify.add_argument("--model", help="model directory (default: the shipped model)")
    classify.set_defaults(func=_user_errors(cmd_classify))

    evaluate = rsub.add_parser(
        "evaluate",
        help="accuracy, macro-F1, confusion matrix",
        description="Evaluate a model on a labelled CSV; labels may be "
        "the model's own or department codes.",
    )
    data_args(evaluate)
    evaluate.add_argument("--model", help="model directory (default: the shipped model)")
    evaluate.add_argument(
        "--report-dir", default="var/router-eval", help="where the confusion-matrix PNG and JSON go"
    )
    evaluate.set_defaults(func=_user_errors(cmd_evaluate))

    retrain = rsub.add_parser(
        "retrain",
        help="learn from dispatcher corrections",
        description="Train a new version on the base corpus plus "
        "corrections, compare it with the current one on the same "
        "held-out data, promote it only if not worse.",
    )
    retrain.add_argument("--corrections", nargs="*", default=[], help="CSV(s): text,label")
    retrain.add_argument("--base", default="data/router/train")
    retrain.add_argument("--holdout", default="data/router/test")
    retrain.add_argument("--models-dir", default=str(Path(__file__).parent / "models"))
    retrain.add_argument("--seed", type=int, default=0)
    retrain.add_argument(
        "--real",
        help="folder of real messages (id,text,label) that calibrate the threshold and must "
        "not get worse (default: CITYOPS_ROUTER_REAL_DEV or ../shared/data/real_dev; "
        "skipped when absent)",
    )
    retrain.set_defaults(func=_user_errors(cmd_retrain))

    corpus = rsub.add_parser(
        "corpus",
        help="diversity statistics of labelled CSVs",
        description="Distinct n-gram ratios, length spread and the shares of texts with a "
        "salutation, several problems, a title, the writer introduced, a local place.",
    )
    corpus.add_argument("data", nargs="+", help="CSV files or folders")
    corpus.add_argument("--text-col", default="text")
    corpus.add_argument("--label-col", default="category")
    corpus.add_argument("--style-col", default="style", help="|-separated tags to count")
    corpus.set_defaults(func=_user_errors(cmd_corpus))

    tax = rsub.add_parser(
        "taxonomy",
        help="counts of the taxonomy's classes, keywords and departments",
        description="Classes per group, sub-group, department and priority.",
    )
    tax.set_defaults(func=_user_errors(cmd_taxonomy))

    corr = rsub.add_parser(
        "corrections",
        help="dispatcher corrections from cases.events as CSV",
        description="Read cases.events (CITYOPS_KAFKA_BOOTSTRAP) from the "
        "start and write every case a dispatcher reclassified as a labelled "
        "example (text,label,...), ready for `router retrain --corrections`.",
    )
    corr.add_argument("--out", required=True, help="CSV file to write")
    corr.set_defaults(func=_user_errors(cmd_corrections))
