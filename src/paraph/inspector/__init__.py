"""The callback inspector's rules: who may post to a name, who may read it, the names accounts create, and the
caps that keep an open endpoint from filling the database. Its pages and catch endpoint are the web's
(:mod:`paraph.web.inspector`)."""
