"""Paraph: a self-hostable, drop-in replacement for the Dropbox Sign API v3."""

import warnings

# pyHanko imports cryptography's DSA key class, which cryptography >= 47 marks deprecated; Paraph never uses
# DSA. Ignored for that one import only, so `paraph serve` does not print it (pyproject.toml does the same in tests).
warnings.filterwarnings("ignore", message="DSA is deprecated", module="pyhanko.sign.signers.pdf_cms")
