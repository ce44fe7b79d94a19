"""Calendars that stay current: subscribable .ics feeds and CalDAV publishing."""
