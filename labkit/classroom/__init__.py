"""One Redis for a whole class: learners' users, handouts, resets and class progress."""
