"""One Redis for a whole class: the roster and learner ids, the class record on the server, learners'
users (ACL), the handout and cards, `create`, class progress (server or collected folders), the
JupyterHub snippet and the student bundle. The instructor runs them through `labkit class` (cli.py)."""
