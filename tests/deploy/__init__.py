"""Tests of deploy/: the local Kafka broker and topic admin."""
