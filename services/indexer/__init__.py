"""The case read model: folds ``cases.events`` into Elasticsearch documents."""
