"""The cityops services: ingest, classifier, dispatch, indexer and api."""
