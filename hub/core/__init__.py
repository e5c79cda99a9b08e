"""Settings and database plumbing shared by the hub's ingest worker, API and server."""
