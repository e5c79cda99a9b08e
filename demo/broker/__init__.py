"""Brokers the demo and the tests run themselves: a private Mosquitto (tests, demo) or amqtt
(the demo's fallback). The ACL and dynamic-security config they load are the hub's
(``hub.broker.acl``, ``hub.broker.dynsec``), the same that compose's broker gets."""
