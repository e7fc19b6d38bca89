"""Outgoing mail: signing links, reminders, final copies and notices, to SMTP or to .eml files."""
