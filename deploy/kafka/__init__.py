"""A real single-node Apache Kafka broker (KRaft) run from Maven-fetched jars, and topic admin."""
from deploy.kafka.broker import BrokerError, LocalKafka
from deploy.kafka.topics import create_topics, describe_topic, list_topics

__all__ = ["BrokerError", "LocalKafka", "create_topics", "describe_topic", "list_topics"]
