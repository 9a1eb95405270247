"""The stream processors (faust). Never imports `connectors`."""
