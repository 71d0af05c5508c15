"""The HTTP surface (SPEC §5): ingest hooks, platform callbacks, one-click links, REST API, health."""
