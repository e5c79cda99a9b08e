"""The broker's accounts and ACL, built from the contract: ``acl`` (who may do what) and
``dynsec`` (Mosquitto's dynamic-security config; compose's ``mosquitto-accounts`` runs it).
The brokers the demo and the tests start themselves live in ``demo.broker``."""
