"""Pure document work: reading PDFs, text tags, form fields, page images, stamping, audit trail, seal.

Nothing in this package touches the database or the network; callers hand it bytes and get bytes or
dataclasses back. PDF libraries used here (pypdfium2 above all) are not thread-safe: run this code in a
worker process, never in the web server's thread pool.
"""
