"""Raw telemetry for Grafana: the InfluxDB sink and the points it writes."""
