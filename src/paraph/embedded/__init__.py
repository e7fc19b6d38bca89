"""Embedded signing: sign URLs for requests created with create_embedded."""
