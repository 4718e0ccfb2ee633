import random

from cityctl.simulate import next_command, reports
from cityops import jurisdiction, taxonomy


def test_demo_reports_are_valid_and_repeat_keys_sometimes() -> None:
    stream = reports(taxonomy.load(), jurisdiction.load(), seed=1, repeat_share=0.2)
    bodies = [next(stream) for _ in range(200)]
    keys = [b["idempotency_key"] for b in bodies]
    assert len(set(keys)) < len(keys)  # some retries
    places = jurisdiction.load()
    for body in bodies:
        loc = body["location"]
        assert places.locate(loc["lat"], loc["lon"]) is not None  # type: ignore[index]


def test_simulated_people_take_the_next_lifecycle_step() -> None:
    rng = random.Random(0)
    case = {"case_id": "LGX", "state": "dispatched", "department": "water"}
    step = next_command(case, rng)
    assert step is not None
    role, command = step
    assert role == "department" and command["body"] == {"kind": "accept"}
    assert "actor" not in command  # the API takes the actor from the sender's token
    assert next_command({**case, "state": "closed"}, rng) is None


def test_simulated_commands_are_ones_the_api_accepts() -> None:
    """The API refuses a person's command id with a ':' (those are the system's own)."""
    from services.api.cases.commands import CommandCreate

    rng = random.Random(1)
    checked = 0
    for state in ("pending", "dispatched", "in_progress", "reported_back", "verified") * 5:
        case = {"case_id": "LGABCDEF123456", "state": state, "department": "water"}
        step = next_command(case, rng)
        if step is not None:
            CommandCreate.model_validate(step[1])
            checked += 1
    assert checked >= 10
