from pathlib import Path

from cityops import taxonomy
from cityops.contracts.events import DispatchCase, RerouteCase
from services.classifier.corrections import corrections, export
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from tests.dispatch.builders import cmd
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()


def test_dispatcher_reclassifications_become_labelled_examples(tmp_path: Path) -> None:
    events = []
    # case 1: the router said C0102; the dispatcher dispatched it as C0103 (a correction)
    d = decide(None, open_command(classified(abstained=True, source_id="r1")), TAX)
    events += d.events
    d = decide(d.case, cmd(d.case.case_id, DispatchCase(department="water", category="C0103")), TAX)  # type: ignore[union-attr]
    events += d.events
    # case 2: auto-dispatched, then rerouted to another department and class
    d = decide(None, open_command(classified(abstained=False, source_id="r2")), TAX)
    events += d.events
    d = decide(
        d.case,
        cmd(d.case.case_id, RerouteCase(department="roads_infrastructure", category="E0301")),
        TAX,
    )  # type: ignore[union-attr]
    events += d.events
    # case 3: the dispatcher confirmed the router's class: no correction
    d = decide(None, open_command(classified(abstained=True, source_id="r3")), TAX)
    events += d.events
    d = decide(d.case, cmd(d.case.case_id, DispatchCase(department="water")), TAX)  # type: ignore[union-attr]
    events += d.events

    found = corrections(reversed(events))
    assert sorted((c.label, c.router_category) for c in found) == [
        ("C0103", "C0102"),
        ("E0301", "C0102"),
    ]
    path = tmp_path / "corrections.csv"
    assert export(events, path) == 2
    assert path.read_text(encoding="utf-8").splitlines()[0] == "text,label,case_id,router_category"
