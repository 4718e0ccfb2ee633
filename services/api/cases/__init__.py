"""The dispatcher queue and case detail, read from the Elasticsearch read model."""
