"""The pure core: protocols, the clinic calendar, the scheduling engine, iCalendar.

Nothing in this package reads files, touches a database or knows about a UI.
"""
