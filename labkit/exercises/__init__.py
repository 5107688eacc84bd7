"""The exercises: each notebook's checks, the progress they record, and the learner copies without solutions.

Notebooks import their checks from here: `from labkit.exercises import check_login, ...`.
"""

from labkit.exercises.checking import CheckResult, NotYet, exercise
from labkit.exercises.fleet import check_logout_share, check_logouts_if_stopped, check_shared_store_factory
from labkit.exercises.leaderboards import check_around_me, check_competition_rank, check_page
from labkit.exercises.production import check_save_session_durably, check_users_per_node
from labkit.exercises.session_ids import check_create_session
from labkit.exercises.sessions import check_add_to_cart, check_login

__all__ = [
    "CheckResult",
    "NotYet",
    "check_add_to_cart",
    "check_around_me",
    "check_competition_rank",
    "check_create_session",
    "check_login",
    "check_logout_share",
    "check_logouts_if_stopped",
    "check_page",
    "check_save_session_durably",
    "check_shared_store_factory",
    "check_users_per_node",
    "exercise",
]
