"""The shipped data files load, validate and are internally consistent."""

from collections import Counter

from cityops import jurisdiction, taxonomy

DEPARTMENTS = {
    "urban_management",
    "sanitation_greening",
    "roads_infrastructure",
    "water",
    "environment",
    "police",
    "traffic_police",
    "transport",
    "housing",
    "market_regulation",
    "emergency_fire",
    "health",
    "education",
    "human_resources",
    "civil_affairs",
    "planning_land",
    "utilities",
    "culture_tourism",
    "agriculture",
    "tax",
    "medical_insurance",
    "housing_fund",
    "town_office",
}


def test_taxonomy_has_the_catalogue_and_enough_leaves() -> None:
    tax = taxonomy.load()
    assert {d.code for d in tax.departments} == DEPARTMENTS
    assert {leaf.department for leaf in tax.leaves} == DEPARTMENTS
    assert {leaf.dimension for leaf in tax.leaves} == set("净畅宁和美")
    assert tax.path("C0102") == ["部件", "公用设施", "污水井盖"]
    assert tax.path("E0106") == ["事件", "市容环境类事件", "垃圾满溢"]


def test_taxonomy_counts_quoted_in_docs_router_md() -> None:
    """`cityops router taxonomy` prints these; docs/router.md quotes them."""
    tax = taxonomy.load()
    assert (tax.version, len(tax.leaves)) == ("2026.11.1", 170)
    assert sum(len(leaf.keywords) for leaf in tax.leaves) == 800
    assert Counter(leaf.code[0] for leaf in tax.leaves) == {"C": 49, "E": 55, "H": 66}
    priorities = Counter(leaf.priority for leaf in tax.leaves)
    assert priorities == {"urgent": 13, "high": 36, "normal": 84, "low": 37}
    per_department = Counter(leaf.department for leaf in tax.leaves)
    assert per_department.most_common(3) == [
        ("sanitation_greening", 19),
        ("urban_management", 15),
        ("utilities", 14),
    ]
    assert per_department["housing_fund"] == 2


def test_urgent_classes_run_on_wall_clock() -> None:
    for leaf in taxonomy.load().leaves:
        if leaf.priority == "urgent":
            assert leaf.clock == "wall", leaf.code


def test_dishui_lake_is_in_nanhui_xincheng_and_the_sea_in_no_town() -> None:
    places = jurisdiction.load()
    here = places.locate(30.905, 121.935)
    assert here is not None and here.town.code == "nanhui_xincheng" and here.grid is not None
    assert here.grid.town == "nanhui_xincheng"
    assert places.locate(30.80, 122.30) is None
    assert places.locate(31.2304, 121.4737) is None  # People's Square is not in Lingang
