"""Notifications: events at the hub (capacity alerts, offline edges and readers, dead-letter
surges, failed commands, overdue service requests) sent to each subscriber's channels (WeCom and
DingTalk robots, e-mail, a signed webhook), with quiet hours, digests, retries and a log."""
