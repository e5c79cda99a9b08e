"""Brokers the hub can run itself: a private Mosquitto (tests, demo) or amqtt (demo fallback)."""
