"""Starting things: the local Kafka broker, processes, compose files, dashboards."""
