"""The queue configuration history: each queue's settings as routing applied them, as facts.

Reports need the service level and short-abandon threshold a queue had when a conversation
waited in it (each queue visit carries them too, `segments.py`) and when they changed. Routing
writes one `configured` decision per queue (routing-decision v3 `queue_settings`; the sink
copies it to `queue_config_facts`) whenever a domain starts applying a configuration in this
process: its first event after a start or a rebuild, and the first event after a changed routing
file was reloaded. The time is the domain clock's, so the facts follow the event log; a restart
writes the same settings again under a later time, which a history read as "latest at or before
t" absorbs.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from .config import Queue, RoutingConfig
from .domain import Domain, decide

# The configuration each live domain last announced (by identity: a reload builds a new object).
# Not state: a rebuilt domain is a new object and announces again, which is what "as loaded" means.
_announced: WeakKeyDictionary[Domain, RoutingConfig] = WeakKeyDictionary()


def announce(domain: Domain) -> None:
    """Write each queue's settings once per configuration this domain applies (see module docstring)."""
    if _announced.get(domain) is domain.config:
        return
    _announced[domain] = domain.config
    for queue_id, queue in sorted(domain.config.queues.items()):
        decide(domain, "configured", describe(queue_id, queue), ref=f"{domain.tenant}:configured:{queue_id}",
               queue_id=queue_id, queue_settings=settings(queue))


def settings(queue: Queue) -> dict:
    """The queue's reportable settings (routing-decision v3 QueueSettings)."""
    return {"service_level_percent": queue.service_level.percent, "service_level_seconds": queue.service_level.seconds,
            "short_abandon_seconds": queue.short_abandon_seconds,
            "abandon_after_silence_seconds": queue.abandon_after_silence_seconds,
            "alert_timeout_seconds": queue.alert_timeout_seconds, "acw_mode": queue.acw.mode,
            "acw_timeout_seconds": None if queue.acw.mode == "mandatory" else queue.acw.timeout_seconds,
            "skills": dict(queue.skills)}


def describe(queue_id: str, queue: Queue) -> str:
    """The settings in words (the decision's reason)."""
    silence = f"{queue.abandon_after_silence_seconds:g} s" if queue.abandon_after_silence_seconds else "never"
    return (f"queue {queue_id} configured: service level {queue.service_level.percent:g} % in "
            f"{queue.service_level.seconds:g} s, short abandon under {queue.short_abandon_seconds:g} s, "
            f"abandoned after silence {silence}" + (f", flows out to {queue.flow_out.queue} after "
                                                    f"{queue.flow_out.after_seconds:g} s" if queue.flow_out else ""))
