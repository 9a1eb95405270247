"""The data contract: topics, Avro subjects and the codec. Both connectors and streams import it."""
from .catalogue import RAW, Topic, UnknownTopic, catalogue, topic
from .codec import Codec, DecodeError, plain
from .registry import SchemaVersion, UnknownSubject, load_schema, subjects, versions

__all__ = [
    "RAW", "Topic", "UnknownTopic", "catalogue", "topic",
    "Codec", "DecodeError", "plain",
    "SchemaVersion", "UnknownSubject", "load_schema", "subjects", "versions",
]
