"""Commands from the hub to edges: sent over MQTT, answered by the edge, kept with their outcome."""
