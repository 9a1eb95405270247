"""`switchboard worker`: its options and the processors it loads."""
import importlib

import pytest

from streams import worker
from streams.app import app
from streams.processors import PROCESSORS


def test_every_listed_processor_imports_and_registers_on_the_app():
    for name in PROCESSORS:
        importlib.import_module(name)
    assert "thread_conversations" in app.agents
    assert "conversation_by_thread" in app.tables


def test_the_conversation_table_uses_the_catalogue_changelog_topic():
    from streams.conversations.agent import conversation_by_thread

    assert conversation_by_thread.changelog_topic.get_topic_name() == "conversation-state"


def test_options_have_defaults_for_a_production_worker():
    args = worker._parser().parse_args([])
    assert (args.store, args.app_id, args.processors, args.expiry_interval) == ("rocksdb://", None, None, 30.0)


def test_help_names_the_role(capsys):
    with pytest.raises(SystemExit):
        worker.main(["--help"])
    assert "switchboard worker" in capsys.readouterr().out
