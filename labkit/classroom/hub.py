"""`labkit class hub-env`: each JupyterHub user's REDIS_URL and LABKIT_LEARNER, as a jupyterhub_config.py snippet.

JupyterHub gives every user's server the environment in `c.Spawner.environment`; a value may be a
function of the spawner, so one snippet serves the whole class: a hub user named like a learner id
(alice, ana-maria, learner07) gets that learner's URL from the handout. The snippet holds the
passwords, so jupyterhub_config.py must stay readable only by the hub.
"""

from __future__ import annotations

from pathlib import Path

from labkit.classroom.handout import read_handout
from labkit.config import ENV_LEARNER, ENV_URL
from labkit.errors import ClassroomError

SNIPPET = '''# From `labkit class hub-env --handout {handout}`: each hub user's {url} and {learner}.
# Hub user names are the class's learner ids. This holds passwords: keep this file private.
LABKIT_CLASS = {{
{entries}
}}


def _labkit_setting(name):
    def value(spawner):
        user = spawner.user.name
        if user not in LABKIT_CLASS:
            raise ValueError(f"hub user {{user!r}} is not a learner of this class: add them with "
                             "`labkit class create`, then paste `labkit class hub-env` here again")
        return LABKIT_CLASS[user] if name == "{url}" else user
    return value


c.Spawner.environment.update({{"{url}": _labkit_setting("{url}"), "{learner}": _labkit_setting("{learner}")}})
'''


def hub_snippet(handout: Path) -> str:
    """Python for jupyterhub_config.py setting each user's REDIS_URL and LABKIT_LEARNER from `handout`."""
    urls = read_handout(handout)
    if not urls:
        raise ClassroomError(f"no handout at {handout}: give the CSV `labkit class create` wrote (--handout)")
    entries = "\n".join(f"    {learner!r}: {url!r}," for learner, url in sorted(urls.items()))
    return SNIPPET.format(handout=handout.name, url=ENV_URL, learner=ENV_LEARNER, entries=entries)
