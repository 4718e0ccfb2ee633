"""Splitting a message that names several problems (services/classifier/issues.py)."""

from __future__ import annotations

import pytest

from services.classifier.issues import decide_parts, split


@pytest.mark.parametrize(
    "text",
    [
        "楼上半夜很吵",
        "我还有一个问题想问，路面破了",  # 还有 inside a sentence
        "垃圾桶满了没人清运，同时散发臭味",  # 同时 after a comma goes on with the same problem
        "路面坑洼1.5米宽，很危险",  # a decimal is not a numbered point
        "路面破损。同时",  # a marker with nothing after it
        "另外路灯不亮",  # one marked clause is one problem
    ],
)
def test_a_message_with_one_problem_comes_back_whole(text: str) -> None:
    assert split(text) == [text]


def test_a_new_clause_opening_with_another_marker_starts_a_problem() -> None:
    text = "门口路灯不亮好几天了。另外井盖也松了，晚上很危险；还有绿化带被占用"
    assert split(text) == ["门口路灯不亮好几天了", "另外井盖也松了，晚上很危险", "还有绿化带被占用"]


def test_numbered_points_keep_the_introduction_as_context() -> None:
    text = "小区存在以下问题：1、垃圾没人清运 2、路灯坏了 3、绿化带被占用种菜"
    assert split(text) == [
        "小区存在以下问题：1、垃圾没人清运",
        "小区存在以下问题：2、路灯坏了",
        "小区存在以下问题：3、绿化带被占用种菜",
    ]


def test_yi_shi_er_shi_and_bracketed_points() -> None:
    assert split("一是电动车乱停堵住消防通道，二是楼道里堆满杂物") == [
        "一是电动车乱停堵住消防通道",
        "二是楼道里堆满杂物",
    ]
    assert split("（1）路灯不亮（2）井盖缺失") == ["（1）路灯不亮", "（2）井盖缺失"]
    assert split("①路灯不亮②井盖缺失") == ["①路灯不亮", "②井盖缺失"]


def test_a_part_too_short_to_say_anything_joins_the_one_before() -> None:
    assert split("路灯坏了很久了。另外，井盖也没了。还有呢") == [
        "路灯坏了很久了",
        "另外，井盖也没了，还有呢",
    ]


def test_decide_parts_routes_only_messages_with_several_parts_in_one_call() -> None:
    calls: list[list[str]] = []

    def decide(texts: list[str]) -> list[int]:
        calls.append(texts)
        return [len(t) for t in texts]

    out = decide_parts(
        decide, ["楼上很吵", "路灯坏了很久。另外井盖没了", "1、路面破损 2、垃圾满了"]
    )
    assert out[0] == []
    assert out[1] == [("路灯坏了很久", 6), ("另外井盖没了", 6)]
    assert [part for part, _ in out[2]] == ["1、路面破损", "2、垃圾满了"]
    assert len(calls) == 1
    assert decide_parts(decide, ["楼上很吵"]) == [[]] and len(calls) == 1
