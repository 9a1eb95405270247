"""The topic catalogue is consistent, and docs/topics.md tells the same story."""
import re
from pathlib import Path

import pytest

from schemas import RAW, UnknownTopic, catalogue, subjects, topic

DOC = Path(__file__).resolve().parents[2] / "docs" / "topics.md"
KEBAB = re.compile(r"^[a-z]+(-[a-z]+)*$")


def test_every_value_subject_exists_and_every_subject_is_used():
    used = {t.value for t in catalogue().values() if t.value != RAW}
    assert used <= set(subjects())
    assert set(subjects()) <= used


def test_every_topic_with_consumers_has_a_declared_dead_letter_topic():
    for t in catalogue().values():
        if t.is_dlq or t.compacted:
            continue
        assert t.dlq == f"{t.name}-dlq" and catalogue()[t.dlq].dlq_of == t.name


def test_names_are_kebab_case_nouns():
    assert all(KEBAB.match(name) for name in catalogue())


def test_dead_letter_topics_keep_raw_bytes_for_a_long_time():
    for t in catalogue().values():
        if t.is_dlq:
            assert t.value == RAW and int(t.config["retention.ms"]) >= 14 * 86_400_000


def test_unknown_topic_is_a_clear_error():
    with pytest.raises(UnknownTopic, match="not declared"):
        topic("inbound-mesages")


def _doc_rows() -> dict[str, list[str]]:
    """The rows of the tables in the doc's "## Topics" section, by topic name."""
    section = DOC.read_text().split("\n## Topics\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    return rows


def _names(cell: str) -> list[str]:
    return [n.strip() for n in cell.split(",") if n.strip()]


def test_docs_describe_every_topic_and_no_other():
    assert set(_doc_rows()) == set(catalogue())


@pytest.mark.parametrize("name", [n for n, t in catalogue().items() if not t.is_dlq])
def test_docs_agree_with_the_catalogue_on_each_topic(name):
    t = catalogue()[name]
    _, key, value, partitions, cleanup, producers, consumers, dlq = _doc_rows()[name]
    assert key == t.key and value == f"`{t.value}`" and int(partitions) == t.partitions
    assert cleanup == t.config["cleanup.policy"]
    assert _names(producers) == list(t.producers) and _names(consumers) == list(t.consumers)
    assert dlq.strip("`") == (t.dlq or "—")


@pytest.mark.parametrize("name", [n for n, t in catalogue().items() if t.is_dlq])
def test_docs_agree_with_the_catalogue_on_each_dead_letter_topic(name):
    t = catalogue()[name]
    _, source, value, partitions, retention, producers, consumers = _doc_rows()[name]
    assert source == f"`{t.dlq_of}`" and value == "raw" and int(partitions) == t.partitions
    assert int(retention.split()[0]) * 86_400_000 == int(t.config["retention.ms"])
    assert _names(producers) == list(t.producers) and _names(consumers) == list(t.consumers)
