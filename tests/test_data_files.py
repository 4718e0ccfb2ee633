"""The shipped data files load, validate and are internally consistent."""

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
    assert len(tax.leaves) >= 120
    assert {leaf.department for leaf in tax.leaves} == DEPARTMENTS
    assert {leaf.dimension for leaf in tax.leaves} == set("净畅宁和美")
    assert tax.path(tax.leaves[0].code)[0] in {"部件", "事件", "12345热线事项"}


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
