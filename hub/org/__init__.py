"""Party-building records: the organisation, members, units, attendance and their reports."""
