"""Simulated signers for test-mode requests: /paraph/v1/test/* and the dashboard's buttons run the signing
page's own services in place of a person."""
