from datetime import date

from pactboard.engagements.smart import objective_smart_check


def _fields(gaps):
    return [g.field for g in gaps]


def test_complete_objective_has_no_gaps():
    gaps = objective_smart_check(
        measure="First-contact resolution",
        target="75 %",
        deadline=date(2026, 12, 31),
        has_owner=True,
        linked_kpi_count=1,
        relevance="Repeat contacts cost twice.",
    )
    assert gaps == []


def test_each_missing_part_is_named():
    gaps = objective_smart_check(measure=" ", target="", deadline=None, has_owner=False, linked_kpi_count=0)
    assert _fields(gaps) == ["measure", "target", "deadline", "owner", "relevance", "kpis"]
    messages = " ".join(g.message for g in gaps)
    for words in ("No measure", "No target", "No date", "No owner", "Not linked to a KPI"):
        assert words in messages


def test_only_the_kpi_link_missing():
    gaps = objective_smart_check(
        measure="CSAT", target="88 %", deadline=date(2027, 1, 1), has_owner=True, linked_kpi_count=0, relevance="x"
    )
    assert _fields(gaps) == ["kpis"]
