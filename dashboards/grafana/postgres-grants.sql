-- What Grafana's read-only role may read in the records: exactly the tables its dashboards query
-- (tests/dashboards/test_grafana.py runs every panel's SQL as this role). No member names, no card
-- hashes: Grafana gets no table of personal data. Run after the hub's first migration:
--   docker compose exec postgres psql -U community -d community -f /grafana/postgres-grants.sql
-- The role itself (login, no other right) is made when the database is first created.
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON sites, devices, dead_letters, venues TO grafana_reader;
GRANT SELECT (event_id, site_id, device_id, device_time, received_at, decision) ON checkins TO grafana_reader;
