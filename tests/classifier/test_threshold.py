"""Choosing the threshold with a minimum count, and the gate over written and real texts."""

from __future__ import annotations

from services.classifier.model.threshold import Scored, choose, choose_gate


def test_min_count_does_not_judge_the_first_few_cut_offs() -> None:
    confidence = [0.9, 0.8, 0.7, 0.6, 0.5]
    correct = [False, True, True, True, True]
    assert choose(confidence, correct, 0.75).threshold == 1.0  # the top one is wrong
    chosen = choose(confidence, correct, 0.75, min_count=3)  # 2/3 at 0.7: still too low
    assert chosen.threshold == 1.0
    chosen = choose(confidence, correct, 0.6, min_count=3)
    assert (chosen.threshold, chosen.coverage) == (0.5, 1.0)


def test_the_gate_keeps_unfamiliar_real_texts_out_and_written_ones_in() -> None:
    # written texts: familiar and right; real texts: unfamiliar, confident and mostly wrong
    written = Scored([0.95] * 100, [0.9] * 100, [True] * 100)
    real = Scored([0.99] * 100, [0.5] * 100, [i % 2 == 0 for i in range(100)])
    gate = choose_gate(written, real, [0.0, 0.5, 0.6, 0.8], 0.95, 0.9)
    assert gate.floor == 0.6  # the lowest floor over every real text, under the written ones
    assert gate.threshold >= gate.floor
    assert gate.real.coverage == 0.0
    assert gate.written.coverage == 1.0


def test_the_gate_takes_real_coverage_when_it_is_right_enough() -> None:
    written = Scored([0.95] * 100, [0.9] * 100, [True] * 100)
    right = [True] * 60 + [False] * 40  # the 60 most familiar real texts are right
    real = Scored([0.99] * 100, [0.9] * 60 + [0.4] * 40, right)
    gate = choose_gate(written, real, [0.0, 0.5, 0.7], 0.95, 0.9)
    assert gate.floor == 0.5
    assert gate.real.coverage == 0.6 and gate.real.precision == 1.0
